{{/*
Named templates of the kafka-sidecar chart.

The one meant for other charts is "kafka-sidecar.container": it renders the sidecar as one item
of a pod's `initContainers` list (a native sidecar, nativeSidecar=true, the default) or of its
`containers` list (nativeSidecar=false). Its context needs only `.Values` holding this chart's
values, so from a parent chart that depends on this one (values under the key "kafka-sidecar"):

  {{- $sidecar := dict "Values" (index .Values "kafka-sidecar") }}
  terminationGracePeriodSeconds: {{ add (include "kafka-sidecar.terminationGracePeriodSeconds" $sidecar) 30 }}
  initContainers:
    {{- include "kafka-sidecar.container" $sidecar | nindent 4 }}
  containers:
    - name: my-app
      ...
  volumes:
    {{- include "kafka-sidecar.volumes" $sidecar | nindent 4 }}

"kafka-sidecar.volumes" renders the volumes the sidecar mounts (the TLS and tokens Secrets, the
gRPC socket's emptyDir), or nothing; with a unix socket, also add
"kafka-sidecar.socketVolumeMount" to the app container's `volumeMounts`. The Secrets' files have
mode 0440: give the pod `securityContext.fsGroup: 10001` (the sidecar's group) so that it can
read them.
*/}}

{{- define "kafka-sidecar.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kafka-sidecar.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "kafka-sidecar.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kafka-sidecar.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "kafka-sidecar.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 }}
{{ include "kafka-sidecar.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* A list of servers, or a comma-separated string, as the daemon's comma-separated list. */}}
{{- define "kafka-sidecar.serverList" -}}
{{- if kindIs "slice" . }}{{ join "," . }}{{ else }}{{ . }}{{ end }}
{{- end }}

{{/* bootstrapServers as the daemon's comma-separated list. */}}
{{- define "kafka-sidecar.bootstrapServers" -}}
{{- required "bootstrapServers is required: the Kafka cluster's host:port[,host:port...]" (include "kafka-sidecar.serverList" .Values.bootstrapServers) }}
{{- end }}

{{/* The directory of the gRPC unix socket, or nothing when gRPC listens on TCP. */}}
{{- define "kafka-sidecar.socketDir" -}}
{{- if hasPrefix "unix:" .Values.grpcListen }}
{{- trimPrefix "unix:" .Values.grpcListen | dir }}
{{- end }}
{{- end }}

{{/* A volumeMount list item for the socket directory; empty for TCP. */}}
{{- define "kafka-sidecar.socketVolumeMount" -}}
{{- with include "kafka-sidecar.socketDir" . -}}
- name: kafka-sidecar-socket
  mountPath: {{ . | quote }}
{{- end }}
{{- end }}

{{/* The volumes the sidecar mounts, as `volumes` list items; empty when it mounts none. */}}
{{- define "kafka-sidecar.volumes" -}}
{{- include "kafka-sidecar.volumeItems" . | trim }}
{{- end }}

{{/* The items of "kafka-sidecar.volumes", each after a line break. */}}
{{- define "kafka-sidecar.volumeItems" -}}
{{- if include "kafka-sidecar.socketDir" . }}
- name: kafka-sidecar-socket
  emptyDir:
    medium: Memory
    sizeLimit: 1Mi
{{- end }}
{{- with .Values.tls.secretName }}
- name: kafka-sidecar-tls
  secret:
    secretName: {{ . | quote }}
    defaultMode: 0440
{{- end }}
{{- with .Values.tokens.secretName }}
- name: kafka-sidecar-tokens
  secret:
    secretName: {{ . | quote }}
    defaultMode: 0440
{{- end }}
{{- end }}

{{/*
The seconds a pod needs for the sidecar to stop: its preStop pause, its drain
(shutdownTimeoutMs, rounded up) and 5 s of margin. A pod whose app must stop first (a native
sidecar stops after the app) adds the app's own time.
*/}}
{{- define "kafka-sidecar.terminationGracePeriodSeconds" -}}
{{- add .Values.preStopSleepSeconds (div (add .Values.shutdownTimeoutMs 999) 1000) 5 }}
{{- end }}

{{/*
The sidecar container, as one item of an `initContainers` list (nativeSidecar) or a
`containers` list.

gRPC listens where grpcListen says, which should stay inside the pod (127.0.0.1 or a unix
socket) when the app is the only client; the standalone Deployment passes 0.0.0.0. HTTP listens
on 0.0.0.0 because the kubelet sends probes to the pod IP, not to loopback, and Prometheus
scrapes /metrics there; the REST gateway is on it too, so with the sidecar reachable from other
pods, turn on tls and tokens.
*/}}
{{- define "kafka-sidecar.container" -}}
{{- $scheme := ternary "HTTPS" "HTTP" (not (empty .Values.tls.secretName)) }}
{{- $grpcPort := "" }}
{{- if or (hasPrefix "0.0.0.0:" .Values.grpcListen) (hasPrefix "[::]:" .Values.grpcListen) }}
{{- $grpcPort = regexReplaceAll "^.*:" .Values.grpcListen "" }}
{{- end -}}
- name: kafka-sidecar
  image: {{ printf "%s:%v" (required "image.repository is required" .Values.image.repository) .Values.image.tag | quote }}
  imagePullPolicy: {{ .Values.image.pullPolicy | default "IfNotPresent" }}
  {{- if .Values.nativeSidecar }}
  # A native sidecar: runs for the pod's whole life, started first and stopped last.
  restartPolicy: Always
  {{- end }}
  args:
    - {{ printf "--bootstrap-servers=%s" (include "kafka-sidecar.bootstrapServers" .) | quote }}
    {{- range $name, $servers := .Values.clusters }}
    - {{ printf "--cluster=%s=%s" $name (include "kafka-sidecar.serverList" $servers) | quote }}
    {{- end }}
    - {{ printf "--grpc-listen=%s" (required "grpcListen is required" .Values.grpcListen) | quote }}
    - {{ printf "--http-listen=0.0.0.0:%v" (required "httpPort is required" .Values.httpPort) | quote }}
    {{- with .Values.clientId }}
    - {{ printf "--client-id=%s" . | quote }}
    {{- end }}
    {{- with .Values.logLevel }}
    - {{ printf "--log-level=%s" . | quote }}
    {{- end }}
    {{- with .Values.threads }}
    - {{ printf "--threads=%v" . | quote }}
    {{- end }}
    - {{ printf "--shutdown-timeout-ms=%v" .Values.shutdownTimeoutMs | quote }}
    {{- if .Values.tls.secretName }}
    - "--tls-cert-file=/etc/kafka-sidecar/tls/tls.crt"
    - "--tls-key-file=/etc/kafka-sidecar/tls/tls.key"
    {{- with .Values.tls.clientCAKey }}
    - {{ printf "--tls-client-ca-file=/etc/kafka-sidecar/tls/%s" . | quote }}
    {{- end }}
    {{- end }}
    {{- if .Values.tokens.secretName }}
    - {{ printf "--auth-tokens-file=/etc/kafka-sidecar/tokens/%s" .Values.tokens.key | quote }}
    {{- end }}
    {{- range .Values.extraArgs }}
    - {{ . | quote }}
    {{- end }}
  ports:
    {{- /* Pod port names must be unique across containers, hence the prefix. */}}
    - name: sidecar-http
      containerPort: {{ .Values.httpPort }}
      protocol: TCP
    {{- with $grpcPort }}
    - name: sidecar-grpc
      containerPort: {{ . }}
      protocol: TCP
    {{- end }}
  {{- if .Values.nativeSidecar }}
  {{- /* The pod's app containers start only once this passes: the sidecar has Kafka metadata. */}}
  startupProbe:
    httpGet:
      path: /readyz
      port: sidecar-http
      scheme: {{ $scheme }}
    periodSeconds: 1
    failureThreshold: 120
  {{- end }}
  livenessProbe:
    httpGet:
      path: /healthz
      port: sidecar-http
      scheme: {{ $scheme }}
    periodSeconds: 10
    timeoutSeconds: 2
    failureThreshold: 3
  {{- /* Ready while Kafka answers and the sidecar is not draining; this gates the pod. */}}
  readinessProbe:
    httpGet:
      path: /readyz
      port: sidecar-http
      scheme: {{ $scheme }}
    periodSeconds: 5
    timeoutSeconds: 2
    failureThreshold: 2
  lifecycle:
    preStop:
      exec:
        command: ["sleep", {{ .Values.preStopSleepSeconds | quote }}]
  {{- with .Values.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    runAsGroup: 10001
    readOnlyRootFilesystem: true
    allowPrivilegeEscalation: false
    capabilities:
      drop: ["ALL"]
    seccompProfile:
      type: RuntimeDefault
  {{- if or (include "kafka-sidecar.socketDir" .) .Values.tls.secretName .Values.tokens.secretName }}
  volumeMounts:
    {{- with include "kafka-sidecar.socketVolumeMount" . }}
    {{- . | nindent 4 }}
    {{- end }}
    {{- if .Values.tls.secretName }}
    - name: kafka-sidecar-tls
      mountPath: /etc/kafka-sidecar/tls
      readOnly: true
    {{- end }}
    {{- if .Values.tokens.secretName }}
    - name: kafka-sidecar-tokens
      mountPath: /etc/kafka-sidecar/tokens
      readOnly: true
    {{- end }}
  {{- end }}
{{- end }}
