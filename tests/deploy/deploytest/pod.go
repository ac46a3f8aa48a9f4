package main

// check-pod: the rules a pod running kafka-sidecar must follow, checked on every pod template
// that has a container named "kafka-sidecar" (in containers, or in initContainers as a native
// sidecar), and the rules for the objects around it: the Services and PodMonitors that point at
// those pods, and the Secrets their files come from (objects.go).

import (
	"flag"
	"fmt"
	"os/exec"
	"path"
	"strconv"
	"strings"
)

const sidecarName = "kafka-sidecar"

// The daemon's drain takes at most --shutdown-timeout-ms (README "Graceful shutdown"), 30 s by
// default. A pod's terminationGracePeriodSeconds must cover the sidecar's preStop pause, that
// drain, and this margin, or the kubelet's SIGKILL may cut the drain short.
const (
	defaultShutdownTimeoutMs = 30000
	graceMarginSeconds       = 5
)

// Flags whose value is a file the daemon reads at start: in a pod, it must come from a volume.
// secretFileFlags hold key material or tokens, so their volume must be a Secret.
var (
	fileFlags       = []string{"config", "tls-cert-file", "tls-key-file", "tls-client-ca-file", "auth-tokens-file"}
	secretFileFlags = map[string]bool{"tls-cert-file": true, "tls-key-file": true,
		"tls-client-ca-file": true, "auth-tokens-file": true}
)

type podExpectations struct {
	args      stringList
	httpPort  int
	documents int
	kinds     string
	native    bool
	yamllint  string
	problems  stringList
}

func (e *podExpectations) register(fs *flag.FlagSet) {
	fs.Var(&e.args, "expect-arg", "an argument the sidecar container must have (repeatable)")
	fs.IntVar(&e.httpPort, "expect-http-port", 0, "the port of the HTTP listener and probes")
	fs.IntVar(&e.documents, "expect-documents", -1, "how many YAML documents there must be")
	fs.StringVar(&e.kinds, "expect-kinds", "", "the kinds of the documents, comma-separated "+
		"in document order (Secret,Deployment,Service)")
	fs.BoolVar(&e.native, "expect-native-sidecar", false,
		"the sidecar must be a native sidecar (an init container with restartPolicy: Always)")
	fs.StringVar(&e.yamllint, "yamllint", "", "a yamllint configuration file: lint the YAML text")
	fs.Var(&e.problems, "expect-problem", expectProblemUsage)
}

// podTemplate is one pod spec found in a document, with where it came from for messages.
type podTemplate struct {
	where  string
	spec   map[string]interface{}
	labels map[string]interface{}
}

// sidecarPod is a pod template and its kafka-sidecar container.
type sidecarPod struct {
	podTemplate
	sidecar map[string]interface{}
}

// standalone: the sidecar runs alone in its pod, and serves apps in other pods through a
// Service, instead of beside an app that reaches it inside the pod.
func (p sidecarPod) standalone() bool {
	return len(allContainers(p.spec)) == 1
}

// failures collects every broken rule, so that one run reports them all.
type failures []string

func (f *failures) add(format string, args ...interface{}) {
	*f = append(*f, fmt.Sprintf(format, args...))
}

func (f failures) err() error {
	if len(f) == 0 {
		return nil
	}
	return fmt.Errorf("  %s", strings.Join(f, "\n  "))
}

const expectProblemUsage = "for testing the check itself: text that one of the reported " +
	"problems must contain (repeatable); the check then passes only if each is reported"

// against returns the failures as an error, or, when the caller expects problems (a test of the
// check itself), an error only if one of the expected problems was not reported.
func (f failures) against(expected []string) error {
	if len(expected) == 0 {
		return f.err()
	}
	fmt.Printf("problems found, as expected:\n%v\n", f.err())
	var missed failures
	for _, want := range expected {
		if !strings.Contains(strings.Join(f, "\n"), want) {
			missed.add("no reported problem contains %q", want)
		}
	}
	return missed.err()
}

func runCheckPod(source podSource, expect podExpectations) error {
	if expect.httpPort <= 0 {
		return fmt.Errorf("-expect-http-port is required")
	}
	text, err := source.load()
	if err != nil {
		return err
	}
	docs, err := parseDocuments(text)
	if err != nil {
		return err
	}
	var problems failures
	if expect.yamllint != "" {
		if err := runYamllint(text, expect.yamllint); err != nil {
			problems.add("%v", err)
		}
	}
	if expect.documents >= 0 && len(docs) != expect.documents {
		problems.add("%d YAML documents, expected %d", len(docs), expect.documents)
	}
	var kinds []string
	for i, doc := range docs {
		kinds = append(kinds, str(doc["kind"]))
		if str(doc["apiVersion"]) == "" || str(doc["kind"]) == "" ||
			str(mapAt(doc, "metadata")["name"]) == "" {
			problems.add("document %d lacks apiVersion, kind or metadata.name", i)
		}
	}
	if expect.kinds != "" && strings.Join(kinds, ",") != expect.kinds {
		problems.add("the documents' kinds are %s, expected %s", strings.Join(kinds, ","),
			expect.kinds)
	}
	pods, err := sidecarPods(docs)
	if err != nil {
		return err
	}
	for _, pod := range pods {
		checkSidecarPod(pod, expect, &problems)
		checkPodFiles(pod, docs, &problems)
		fmt.Printf("%s: sidecar args %v\n", pod.where, strs(pod.sidecar["args"]))
	}
	checkServices(docs, pods, &problems)
	checkPodMonitors(docs, pods, &problems)
	return problems.against(expect.problems)
}

// runYamllint lints the YAML text with the yamllint program and the given configuration.
func runYamllint(text, config string) error {
	cmd := exec.Command("yamllint", "--strict", "-f", "parsable", "-c", config, "-")
	cmd.Stdin = strings.NewReader(text)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("yamllint (%v):\n%s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// sidecarPods finds the pod templates that run kafka-sidecar; it is an error if there is none.
func sidecarPods(docs []map[string]interface{}) ([]sidecarPod, error) {
	var pods []sidecarPod
	for _, doc := range docs {
		pod, ok := podSpecOf(doc)
		if !ok {
			continue
		}
		for _, container := range allContainers(pod.spec) {
			if str(container["name"]) == sidecarName {
				pods = append(pods, sidecarPod{pod, container})
			}
		}
	}
	if len(pods) == 0 {
		return nil, fmt.Errorf("no pod template has a container named %q", sidecarName)
	}
	return pods, nil
}

func podSpecOf(doc map[string]interface{}) (podTemplate, bool) {
	where := str(doc["kind"]) + "/" + str(mapAt(doc, "metadata")["name"])
	var template map[string]interface{}
	switch str(doc["kind"]) {
	case "Pod":
		template = doc
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job":
		template = mapAt(doc, "spec", "template")
	case "CronJob":
		template = mapAt(doc, "spec", "jobTemplate", "spec", "template")
	}
	spec := mapAt(template, "spec")
	return podTemplate{where, spec, mapAt(template, "metadata", "labels")}, spec != nil
}

func allContainers(spec map[string]interface{}) []map[string]interface{} {
	return append(maps(spec["containers"]), maps(spec["initContainers"])...)
}

func checkSidecarPod(pod sidecarPod, expect podExpectations, problems *failures) {
	c := pod.sidecar
	fail := func(format string, args ...interface{}) {
		problems.add(pod.where+": "+format, args...)
	}
	if str(c["image"]) == "" {
		fail("the sidecar has no image")
	}

	args := strs(c["args"])
	for _, want := range expect.args {
		if !contains(args, want) {
			fail("args %v lack %q", args, want)
		}
	}
	flags := map[string]string{}
	for _, arg := range args {
		name, value, hasValue := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
		if !strings.HasPrefix(arg, "--") || (!hasValue && name != "embedded-broker") {
			fail("argument %q is not in the --flag=value form the manifests use", arg)
		}
		flags[name] = value
		if name == "cluster" {
			cluster, servers, _ := strings.Cut(value, "=")
			for _, server := range strings.Split(servers, ",") {
				if _, ok := portOf(server); cluster == "" || !ok {
					fail("--cluster=%s: expected NAME=host:port[,host:port...]", value)
					break
				}
			}
		}
	}
	_, bootstrap := flags["bootstrap-servers"]
	_, embedded := flags["embedded-broker"]
	if bootstrap == embedded {
		fail("exactly one of --bootstrap-servers and --embedded-broker is needed")
	}
	if bootstrap {
		for _, server := range strings.Split(flags["bootstrap-servers"], ",") {
			if _, ok := portOf(server); !ok {
				fail("bootstrap server %q is not host:port", server)
			}
		}
	}

	grpc := flags["grpc-listen"]
	unix := strings.HasPrefix(grpc, "unix:")
	standalone := pod.standalone()
	switch {
	case standalone && (unix || !isAnyAddress(grpc)):
		fail("--grpc-listen=%s: a standalone sidecar serves other pods, so gRPC must listen on "+
			"0.0.0.0 or [::]", grpc)
	case !standalone && !unix && !isLoopback(grpc):
		fail("--grpc-listen=%s: gRPC must stay inside the pod (127.0.0.1, [::1] or unix:)", grpc)
	}
	if unix {
		checkSocketVolume(pod, path.Dir(path.Clean(strings.TrimPrefix(grpc, "unix:"))), fail)
	}

	http := flags["http-listen"]
	if port, ok := portOf(http); !ok || port != expect.httpPort {
		fail("--http-listen=%s: expected port %d", http, expect.httpPort)
	}
	if !isAnyAddress(http) {
		fail("--http-listen=%s: must listen on 0.0.0.0 or [::], as probes come to the pod IP", http)
	}

	ports := maps(c["ports"])
	if !hasContainerPort(ports, expect.httpPort) {
		fail("no containerPort %d among the sidecar's ports", expect.httpPort)
	}
	// With TLS, both listeners serve only TLS: the probes must speak HTTPS (the kubelet does
	// not verify the certificate).
	scheme := "HTTP"
	if _, tls := flags["tls-cert-file"]; tls {
		scheme = "HTTPS"
	}
	checkProbe(c, "livenessProbe", "/healthz", expect.httpPort, scheme, fail)
	checkProbe(c, "readinessProbe", "/readyz", expect.httpPort, scheme, fail)
	if c["startupProbe"] != nil {
		checkProbe(c, "startupProbe", "/readyz", expect.httpPort, scheme, fail)
	}

	taken := []int{expect.httpPort}
	if port, ok := portOf(grpc); ok && !unix {
		taken = append(taken, port)
		if standalone && !hasContainerPort(ports, port) {
			fail("no containerPort %d for gRPC among the sidecar's ports", port)
		}
	}
	for _, other := range allContainers(pod.spec) {
		for _, port := range taken {
			if str(other["name"]) != sidecarName && hasContainerPort(maps(other["ports"]), port) {
				fail("container %q also uses port %d; containers of a pod share ports",
					str(other["name"]), port)
			}
		}
	}
	native := false
	for _, init := range maps(pod.spec["initContainers"]) {
		if str(init["name"]) == sidecarName {
			native = str(init["restartPolicy"]) == "Always"
			if !native {
				fail("the sidecar is an init container without restartPolicy: Always, so the " +
					"pod's app would never start")
			}
		}
	}
	for _, container := range maps(pod.spec["containers"]) {
		if str(container["name"]) == sidecarName && container["restartPolicy"] != nil {
			fail("the sidecar has a restartPolicy among the containers, where Kubernetes allows " +
				"none: a native sidecar belongs in initContainers")
		}
	}
	if expect.native && !native {
		fail("the sidecar is not a native sidecar (an initContainers entry with restartPolicy: " +
			"Always)")
	}

	security := mapAt(c, "securityContext")
	if security["runAsNonRoot"] != true && mapAt(pod.spec, "securityContext")["runAsNonRoot"] != true {
		fail("runAsNonRoot is not true for the sidecar")
	}
	if security["readOnlyRootFilesystem"] != true {
		fail("the sidecar's readOnlyRootFilesystem is not true")
	}
	if security["allowPrivilegeEscalation"] != false {
		fail("the sidecar's allowPrivilegeEscalation is not false")
	}
	if !contains(strs(mapAt(security, "capabilities")["drop"]), "ALL") {
		fail("the sidecar does not drop ALL capabilities")
	}

	resources := mapAt(c, "resources")
	if len(mapAt(resources, "requests")) == 0 || str(mapAt(resources, "limits")["memory"]) == "" {
		fail("the sidecar needs resource requests and a memory limit, has %v", resources)
	}
	checkShutdownBudget(pod, flags, fail)
}

// checkShutdownBudget: the sidecar needs a preStop pause, and the pod's grace period must cover
// that pause, the drain (--shutdown-timeout-ms) and a margin.
func checkShutdownBudget(pod sidecarPod, flags map[string]string, fail func(string, ...interface{})) {
	drainMs := defaultShutdownTimeoutMs
	if value, ok := flags["shutdown-timeout-ms"]; ok {
		n, err := strconv.Atoi(value)
		if err != nil || n <= 0 {
			fail("--shutdown-timeout-ms=%s is not a positive number", value)
			return
		}
		drainMs = n
	}
	pause, ok := preStopSeconds(pod.sidecar)
	if !ok {
		fail("the sidecar has no preStop pause (lifecycle.preStop exec [\"sleep\", \"N\"] or " +
			"sleep.seconds)")
	}
	need := pause + (drainMs+999)/1000 + graceMarginSeconds
	grace, ok := toInt(pod.spec["terminationGracePeriodSeconds"])
	if !ok || grace < need {
		fail("terminationGracePeriodSeconds is %v; the sidecar needs at least %d (preStop %d s, "+
			"drain %d ms, margin %d s)", pod.spec["terminationGracePeriodSeconds"], need, pause,
			drainMs, graceMarginSeconds)
	}
}

// preStopSeconds returns the length of the container's preStop pause.
func preStopSeconds(c map[string]interface{}) (int, bool) {
	preStop := mapAt(c, "lifecycle", "preStop")
	if seconds, ok := toInt(mapAt(preStop, "sleep")["seconds"]); ok {
		return seconds, seconds > 0
	}
	command := strs(mapAt(preStop, "exec")["command"])
	if len(command) == 2 && command[0] == "sleep" {
		seconds, err := strconv.Atoi(command[1])
		return seconds, err == nil && seconds > 0
	}
	return 0, false
}

func checkProbe(c map[string]interface{}, probe, wantPath string, wantPort int, wantScheme string,
	fail func(string, ...interface{})) {
	get := mapAt(c, probe, "httpGet")
	if get == nil {
		fail("the sidecar has no %s.httpGet", probe)
		return
	}
	if str(get["path"]) != wantPath {
		fail("%s.httpGet.path is %q, expected %q", probe, str(get["path"]), wantPath)
	}
	if scheme := strings.ToUpper(str(get["scheme"])); scheme != wantScheme &&
		!(scheme == "" && wantScheme == "HTTP") {
		fail("%s.httpGet.scheme is %q, expected %s (TLS on the listeners: %v)", probe,
			str(get["scheme"]), wantScheme, wantScheme == "HTTPS")
	}
	if get["host"] != nil {
		fail("%s.httpGet.host is set; probes must go to the pod IP", probe)
	}
	port, ok := toInt(get["port"])
	if !ok {
		// A named port: resolve it through the container's ports.
		for _, p := range maps(c["ports"]) {
			if str(p["name"]) == str(get["port"]) {
				port, ok = toInt(p["containerPort"])
			}
		}
	}
	if !ok || port != wantPort {
		fail("%s.httpGet.port is %v, expected %d", probe, get["port"], wantPort)
	}
}

// checkSocketVolume: with a unix socket in dir, the sidecar must mount an emptyDir there and
// another container must mount the same volume to reach it.
func checkSocketVolume(pod sidecarPod, dir string, fail func(string, ...interface{})) {
	volume := ""
	for _, mount := range maps(pod.sidecar["volumeMounts"]) {
		if path.Clean(str(mount["mountPath"])) == dir {
			volume = str(mount["name"])
		}
	}
	if volume == "" {
		fail("no volume is mounted at the gRPC socket directory %s", dir)
		return
	}
	found := false
	for _, v := range maps(pod.spec["volumes"]) {
		if str(v["name"]) == volume {
			found = true
			if _, ok := v["emptyDir"]; !ok {
				fail("volume %q of the gRPC socket is not an emptyDir", volume)
			}
		}
	}
	if !found {
		fail("the pod has no volume %q for the gRPC socket", volume)
	}
	var sharers []string
	for _, other := range allContainers(pod.spec) {
		for _, mount := range maps(other["volumeMounts"]) {
			if str(other["name"]) != sidecarName && str(mount["name"]) == volume {
				sharers = append(sharers, str(other["name"]))
			}
		}
	}
	if len(sharers) == 0 {
		fail("no other container mounts %q, so none can reach the gRPC socket", volume)
	}
}

// portOf returns the port of host:port or [v6]:port.
func portOf(address string) (int, bool) {
	colon := strings.LastIndex(address, ":")
	if colon <= 0 {
		return 0, false
	}
	port, err := strconv.Atoi(address[colon+1:])
	return port, err == nil && port >= 0 && port <= 65535
}

// isAnyAddress: host:port on every address (0.0.0.0 or [::]).
func isAnyAddress(address string) bool {
	host := address[:strings.LastIndex(address, ":")+1]
	return host == "0.0.0.0:" || host == "[::]:"
}

func isLoopback(address string) bool {
	colon := strings.LastIndex(address, ":")
	if colon <= 0 {
		return false
	}
	switch address[:colon] {
	case "127.0.0.1", "localhost", "[::1]":
		return true
	}
	return false
}

func hasContainerPort(ports []map[string]interface{}, want int) bool {
	for _, p := range ports {
		if n, ok := toInt(p["containerPort"]); ok && n == want {
			return true
		}
	}
	return false
}

// Accessors over parsed YAML that treat anything missing or mistyped as absent.

func mapAt(m map[string]interface{}, keys ...string) map[string]interface{} {
	for _, key := range keys {
		next, ok := m[key].(map[string]interface{})
		if !ok {
			return nil
		}
		m = next
	}
	return m
}

func maps(v interface{}) []map[string]interface{} {
	var out []map[string]interface{}
	list, _ := v.([]interface{})
	for _, item := range list {
		if m, ok := item.(map[string]interface{}); ok {
			out = append(out, m)
		}
	}
	return out
}

func strs(v interface{}) []string {
	var out []string
	list, _ := v.([]interface{})
	for _, item := range list {
		out = append(out, fmt.Sprint(item))
	}
	return out
}

func str(v interface{}) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func toInt(v interface{}) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case uint64:
		return int(n), true
	case float64:
		return int(n), float64(int(n)) == n
	}
	return 0, false
}

func contains(list []string, want string) bool {
	for _, item := range list {
		if item == want {
			return true
		}
	}
	return false
}
