{{/*
Named templates of the kafka-sidecar chart.

The one meant for other charts is "kafka-sidecar.container": it renders the sidecar as one item
of a pod's `containers` list. Its context needs only `.Values` holding this chart's values, so
from a parent chart that depends on this one (values under the key "kafka-sidecar"):

  containers:
    - name: my-app
      ...
    {{- include "kafka-sidecar.container" (dict "Values" (index .Values "kafka-sidecar")) | nindent 4 }}

When grpcListen is a unix: socket, also add "kafka-sidecar.volumes" to the pod's `volumes` and
"kafka-sidecar.socketVolumeMount" to the app container's `volumeMounts`.
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

{{/* bootstrapServers as the daemon's comma-separated list; it may be given as a list. */}}
{{- define "kafka-sidecar.bootstrapServers" -}}
{{- $servers := .Values.bootstrapServers }}
{{- if kindIs "slice" $servers }}
{{- $servers = join "," $servers }}
{{- end }}
{{- required "bootstrapServers is required: the Kafka cluster's host:port[,host:port...]" $servers }}
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

{{/* A volume list item backing the socket directory; empty for TCP. */}}
{{- define "kafka-sidecar.volumes" -}}
{{- if include "kafka-sidecar.socketDir" . -}}
- name: kafka-sidecar-socket
  emptyDir:
    medium: Memory
    sizeLimit: 1Mi
{{- end }}
{{- end }}

{{/*
The sidecar container, as one item of a `containers` list.

gRPC listens where grpcListen says, which should stay inside the pod (127.0.0.1 or a unix
socket): the app is the only client. HTTP listens on 0.0.0.0 because the kubelet sends probes to
the pod IP, not to loopback; it serves only /healthz and /readyz.
*/}}
{{- define "kafka-sidecar.container" -}}
- name: kafka-sidecar
  image: {{ printf "%s:%v" (required "image.repository is required" .Values.image.repository) .Values.image.tag | quote }}
  imagePullPolicy: {{ .Values.image.pullPolicy | default "IfNotPresent" }}
  args:
    - {{ printf "--bootstrap-servers=%s" (include "kafka-sidecar.bootstrapServers" .) | quote }}
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
    {{- range .Values.extraArgs }}
    - {{ . | quote }}
    {{- end }}
  ports:
    {{- /* Pod port names must be unique across containers, hence the prefix. */}}
    - name: sidecar-http
      containerPort: {{ .Values.httpPort }}
      protocol: TCP
  livenessProbe:
    httpGet:
      path: /healthz
      port: {{ .Values.httpPort }}
    periodSeconds: 10
    timeoutSeconds: 2
    failureThreshold: 3
  {{- /* Ready once the sidecar has Kafka metadata; this gates the whole pod's readiness. */}}
  readinessProbe:
    httpGet:
      path: /readyz
      port: {{ .Values.httpPort }}
    periodSeconds: 5
    timeoutSeconds: 2
    failureThreshold: 2
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
  {{- with include "kafka-sidecar.socketVolumeMount" . }}
  volumeMounts:
    {{- . | nindent 4 }}
  {{- end }}
{{- end }}
