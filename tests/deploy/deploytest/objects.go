package main

// check-pod, continued: the objects around a sidecar pod. Files the daemon reads must come from
// mounted volumes (key material and tokens from Secrets, holding the keys the paths name), every
// Service must select a pod template and target its ports, and every PodMonitor must scrape the
// sidecar's /metrics on its HTTP port with the listeners' scheme. A standalone sidecar (alone in
// its pod) needs a Service that targets its gRPC port.

import (
	"path"
	"strings"
)

// flagValues returns the sidecar's --name=value arguments by name.
func flagValues(c map[string]interface{}) map[string]string {
	values := map[string]string{}
	for _, arg := range strs(c["args"]) {
		name, value, _ := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
		values[name] = value
	}
	return values
}

func documentsOfKind(docs []map[string]interface{}, kind string) []map[string]interface{} {
	var out []map[string]interface{}
	for _, doc := range docs {
		if str(doc["kind"]) == kind {
			out = append(out, doc)
		}
	}
	return out
}

func checkPodFiles(pod sidecarPod, docs []map[string]interface{}, problems *failures) {
	fail := func(format string, args ...interface{}) {
		problems.add(pod.where+": "+format, args...)
	}
	flags := flagValues(pod.sidecar)
	for _, name := range fileFlags {
		file, given := flags[name]
		if !given {
			continue
		}
		file = path.Clean(file)
		var mount map[string]interface{}
		for _, m := range maps(pod.sidecar["volumeMounts"]) {
			if dir := path.Clean(str(m["mountPath"])); strings.HasPrefix(file, dir+"/") ||
				(file == dir && m["subPath"] != nil) {
				mount = m
			}
		}
		if mount == nil {
			fail("--%s=%s: no volume is mounted there, so the file would not exist", name, file)
			continue
		}
		var volume map[string]interface{}
		for _, v := range maps(pod.spec["volumes"]) {
			if str(v["name"]) == str(mount["name"]) {
				volume = v
			}
		}
		if volume == nil {
			fail("--%s: the pod has no volume %q", name, str(mount["name"]))
			continue
		}
		secret := mapAt(volume, "secret")
		if secretFileFlags[name] && secret == nil {
			fail("--%s: volume %q is not a Secret; key material and tokens belong in one", name,
				str(volume["name"]))
			continue
		}
		if secret == nil {
			continue
		}
		checkSecretReadable(pod, str(volume["name"]), secret, fail)
		key := strings.TrimPrefix(file, path.Clean(str(mount["mountPath"]))+"/")
		if subPath := str(mount["subPath"]); subPath != "" {
			key = subPath
		}
		for _, item := range maps(secret["items"]) {
			if str(item["path"]) == key {
				key = str(item["key"])
			}
		}
		for _, doc := range documentsOfKind(docs, "Secret") {
			if str(mapAt(doc, "metadata")["name"]) != str(secret["secretName"]) {
				continue
			}
			if mapAt(doc, "data")[key] == nil && mapAt(doc, "stringData")[key] == nil {
				fail("--%s: Secret %q has no key %q", name, str(secret["secretName"]), key)
			}
		}
	}
}

// checkSecretReadable: a Secret volume's files belong to root, in the pod's fsGroup when it has
// one, with the volume's defaultMode (0644 when unset). The sidecar runs as a non-root user, so
// it can read them only through the "other" bits, or through the group bits when the fsGroup is
// its group.
func checkSecretReadable(pod sidecarPod, volume string, secret map[string]interface{},
	fail func(string, ...interface{})) {
	mode := 0o644
	if m, ok := toInt(secret["defaultMode"]); ok {
		mode = m
	}
	if mode&0o004 != 0 {
		return
	}
	group, ok := toInt(mapAt(pod.sidecar, "securityContext")["runAsGroup"])
	if !ok {
		group, ok = toInt(mapAt(pod.spec, "securityContext")["runAsGroup"])
	}
	fsGroup, hasFSGroup := toInt(mapAt(pod.spec, "securityContext")["fsGroup"])
	if mode&0o040 == 0 || !hasFSGroup || !ok || fsGroup != group {
		fail("Secret volume %q has defaultMode %#o: the sidecar can read its files only with "+
			"the group bits and the pod's fsGroup equal to its group (fsGroup %v, group %v)",
			volume, mode, mapAt(pod.spec, "securityContext")["fsGroup"], group)
	}
}

// selects: every label of the selector is on the pod.
func selects(selector, labels map[string]interface{}) bool {
	if len(selector) == 0 {
		return false
	}
	for key, value := range selector {
		if str(labels[key]) != str(value) {
			return false
		}
	}
	return true
}

// containerPortOf resolves a Service targetPort or a PodMonitor port (a name or a number) among
// the containers' ports; it returns the port number.
func containerPortOf(containers []map[string]interface{}, target interface{}) (int, bool) {
	number, isNumber := toInt(target)
	for _, c := range containers {
		for _, p := range maps(c["ports"]) {
			port, _ := toInt(p["containerPort"])
			if (isNumber && port == number) || (!isNumber && str(p["name"]) == str(target)) {
				return port, true
			}
		}
	}
	return 0, false
}

func checkServices(docs []map[string]interface{}, pods []sidecarPod, problems *failures) {
	var templates []podTemplate
	for _, doc := range docs {
		if pod, ok := podSpecOf(doc); ok {
			templates = append(templates, pod)
		}
	}
	served := map[string]bool{} // sidecar pods whose gRPC port a Service targets
	for _, service := range documentsOfKind(docs, "Service") {
		where := "Service/" + str(mapAt(service, "metadata")["name"])
		selector := mapAt(service, "spec", "selector")
		var matched []podTemplate
		for _, pod := range templates {
			if selects(selector, pod.labels) {
				matched = append(matched, pod)
			}
		}
		if len(matched) == 0 {
			problems.add("%s: its selector %v selects no pod template", where, selector)
			continue
		}
		for _, port := range maps(mapAt(service, "spec")["ports"]) {
			target := port["targetPort"]
			if target == nil {
				target = port["port"]
			}
			for _, pod := range matched {
				number, ok := containerPortOf(allContainers(pod.spec), target)
				if !ok {
					problems.add("%s: targetPort %v is no container port of %s", where, target,
						pod.where)
				}
				for _, sidecar := range pods {
					grpc, isTCP := portOf(flagValues(sidecar.sidecar)["grpc-listen"])
					if sidecar.where == pod.where && isTCP && ok && number == grpc {
						served[pod.where] = true
					}
				}
			}
		}
	}
	for _, pod := range pods {
		if pod.standalone() && !served[pod.where] {
			problems.add("%s: no Service targets the standalone sidecar's gRPC port", pod.where)
		}
	}
}

func checkPodMonitors(docs []map[string]interface{}, pods []sidecarPod, problems *failures) {
	for _, monitor := range documentsOfKind(docs, "PodMonitor") {
		where := "PodMonitor/" + str(mapAt(monitor, "metadata")["name"])
		if str(monitor["apiVersion"]) != "monitoring.coreos.com/v1" {
			problems.add("%s: apiVersion is %q, expected monitoring.coreos.com/v1", where,
				str(monitor["apiVersion"]))
		}
		selector := mapAt(monitor, "spec", "selector", "matchLabels")
		endpoints := maps(mapAt(monitor, "spec")["podMetricsEndpoints"])
		if len(endpoints) == 0 {
			problems.add("%s: no podMetricsEndpoints", where)
		}
		matched := false
		for _, pod := range pods {
			if !selects(selector, pod.labels) {
				continue
			}
			matched = true
			flags := flagValues(pod.sidecar)
			httpPort, _ := portOf(flags["http-listen"])
			scheme := "http"
			if _, tls := flags["tls-cert-file"]; tls {
				scheme = "https"
			}
			for _, endpoint := range endpoints {
				port, ok := containerPortOf([]map[string]interface{}{pod.sidecar}, endpoint["port"])
				if !ok || port != httpPort {
					problems.add("%s: port %v is not the sidecar's HTTP port %d in %s", where,
						endpoint["port"], httpPort, pod.where)
				}
				if p := str(endpoint["path"]); p != "" && p != "/metrics" {
					problems.add("%s: path is %q, expected /metrics", where, p)
				}
				if s := strings.ToLower(str(endpoint["scheme"])); s != scheme &&
					!(s == "" && scheme == "http") {
					problems.add("%s: scheme is %q, expected %s", where, s, scheme)
				}
			}
		}
		if !matched {
			problems.add("%s: its selector %v selects no pod with the sidecar", where, selector)
		}
	}
}
