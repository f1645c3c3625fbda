{{- define "storeplane.labels" -}}
app.kubernetes.io/name: storeplane
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{- define "storeplane.selector" -}}
app.kubernetes.io/name: storeplane
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "storeplane.image" -}}
{{ printf "%s-%s:%s" .root.Values.image.repository .component .root.Values.image.tag }}
{{- end }}

{{/* The bus the services connect to: the chart's own NATS cluster, or `nats.url`. */}}
{{- define "storeplane.natsUrl" -}}
{{- if .Values.nats.url -}}
{{ .Values.nats.url }}
{{- else if .Values.nats.deploy -}}
{{ printf "nats://%s-nats:4222" .Release.Name }}
{{- else -}}
{{ fail "nats.url is required when nats.deploy is false (the external NATS JetStream's URL)" }}
{{- end -}}
{{- end }}

{{/* The STORES stream's replicas: `nats.streamReplicas`, else one per peer of the chart's cluster (at most 3), else 1. */}}
{{- define "storeplane.streamReplicas" -}}
{{- if .Values.nats.streamReplicas -}}
{{- if and .Values.nats.deploy (gt (int .Values.nats.streamReplicas) (int .Values.nats.cluster.replicas)) -}}
{{- fail (printf "nats.streamReplicas (%v) cannot exceed nats.cluster.replicas (%v): a stream has at most one replica per server" .Values.nats.streamReplicas .Values.nats.cluster.replicas) -}}
{{- end -}}
{{ .Values.nats.streamReplicas }}
{{- else if .Values.nats.deploy -}}
{{ min 3 (int .Values.nats.cluster.replicas) }}
{{- else -}}
1
{{- end -}}
{{- end }}

{{/* Environment every service reads: the bus (as the service's own NATS user), logging. */}}
{{- define "storeplane.commonEnv" -}}
- name: STOREPLANE_NATS_URL
  value: {{ include "storeplane.natsUrl" .root | quote }}
- name: STOREPLANE_STREAM_REPLICAS
  value: {{ include "storeplane.streamReplicas" .root | quote }}
- name: STOREPLANE_NATS_USER
  value: {{ .component | quote }}
- name: STOREPLANE_NATS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .root.Values.nats.usersSecret }}
      key: {{ .component }}
- name: STOREPLANE_LOG_JSON
  value: "true"
{{- with .root.Values.tracing.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- end }}

{{- define "storeplane.databaseEnv" -}}
- name: STOREPLANE_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.existingSecret }}
      key: url
{{- end }}

{{- define "storeplane.extraEnv" -}}
{{- range $name, $value := . }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end }}

{{/* A list of subjects in nats-server syntax: ["a", "b"]. */}}
{{- define "storeplane.subjects" -}}
[{{ range $i, $subject := . }}{{ if $i }}, {{ end }}{{ $subject | quote }}{{ end }}]
{{- end }}

{{/* The nats-server `authorization` block: every user of the permission table with its password. */}}
{{- define "storeplane.natsAuthorization" -}}
authorization {
  users = [
{{- range $user, $perms := .permissions }}
    {
      user: {{ $user | quote }}
      password: {{ index $.passwords $user | quote }}
      permissions: {
        publish: {
          allow: {{ include "storeplane.subjects" $perms.publish.allow }}
          {{- with $perms.publish.deny }}
          deny: {{ include "storeplane.subjects" . }}
          {{- end }}
        }
        subscribe: {allow: {{ include "storeplane.subjects" $perms.subscribe.allow }}}
        {{- if $perms.allow_responses }}
        allow_responses: true
        {{- end }}
      }
    }
{{- end }}
  ]
}
{{- end }}

{{/* nats-server's monitoring endpoint the status service reads: `nats.monitoringUrl`, else the chart's own cluster's. */}}
{{- define "storeplane.natsMonitoringUrl" -}}
{{- if .Values.nats.monitoringUrl -}}
{{ .Values.nats.monitoringUrl }}
{{- else if .Values.nats.deploy -}}
{{ printf "http://%s-nats:8222" .Release.Name }}
{{- end -}}
{{- end }}

{{/*
Probes of a service that serves only its metrics port: the metrics server answers from its own
thread, so an answer says the process runs (the notifier serves it once connected to NATS and
Postgres). The startup probe gives a slow start (migrations, a bus not yet up) 5 minutes before
liveness may restart it.
*/}}
{{- define "storeplane.metricsProbes" -}}
startupProbe:
  httpGet: {path: /metrics, port: metrics}
  periodSeconds: 5
  failureThreshold: 60
readinessProbe:
  httpGet: {path: /metrics, port: metrics}
  periodSeconds: 10
  timeoutSeconds: 3
livenessProbe:
  httpGet: {path: /metrics, port: metrics}
  periodSeconds: 20
  timeoutSeconds: 5
  failureThreshold: 3
{{- end }}

{{/* A service's PodDisruptionBudget and, if enabled, its HorizontalPodAutoscaler (CPU). */}}
{{- define "storeplane.availability" -}}
{{- $values := index .root.Values .component -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .root.Release.Name }}-{{ .component }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "storeplane.labels" . | nindent 4 }}
spec:
  minAvailable: {{ $values.disruptionBudget.minAvailable }}
  selector:
    matchLabels:
      {{- include "storeplane.selector" . | nindent 6 }}
{{- if $values.autoscaling.enabled }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ .root.Release.Name }}-{{ .component }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "storeplane.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ .root.Release.Name }}-{{ .component }}
  minReplicas: {{ $values.replicas }}
  maxReplicas: {{ $values.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $values.autoscaling.targetCPUUtilizationPercentage }}
{{- end }}
{{- end }}

{{/* One egress rule: to `peers` (none: any address) on TCP `ports`. */}}
{{- define "storeplane.egressRule" -}}
- ports:
    {{- range .ports }}
    - {protocol: TCP, port: {{ . }}}
    {{- end }}
  {{- with .peers }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/* Egress to DNS and to NATS: every service's. */}}
{{- define "storeplane.egressDnsAndNats" -}}
{{- $policy := .Values.networkPolicy -}}
- to:
    {{- toYaml $policy.dns | nindent 4 }}
  ports:
    - {protocol: UDP, port: 53}
    - {protocol: TCP, port: 53}
{{- if .Values.nats.deploy }}
- to:
    - podSelector:
        matchLabels:
          {{- include "storeplane.selector" (dict "root" . "component" "nats") | nindent 10 }}
  ports:
    - {protocol: TCP, port: 4222}
{{- else }}
{{ include "storeplane.egressRule" (dict "peers" $policy.externalNats.peers "ports" (list $policy.externalNats.port)) }}
{{- end }}
{{- include "storeplane.egressTracing" . }}
{{- with $policy.extraEgress }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The port of a URL: its own, else its scheme's (https 443, http 80), else `default`. */}}
{{- define "storeplane.urlPort" -}}
{{- $url := urlParse .url -}}
{{- $port := trimPrefix (printf "%s:" $url.hostname) $url.host -}}
{{- if and $port (ne $port $url.host) -}}
{{ $port }}
{{- else if eq $url.scheme "https" -}}
443
{{- else if eq $url.scheme "http" -}}
80
{{- else -}}
{{ .default }}
{{- end -}}
{{- end }}

{{/* Egress to the OTLP collector every service sends its spans to, when tracing is on. */}}
{{- define "storeplane.egressTracing" -}}
{{- with .Values.tracing.otlpEndpoint }}
{{ include "storeplane.egressRule" (dict "peers" $.Values.networkPolicy.tracing.peers "ports" (list (include "storeplane.urlPort" (dict "url" . "default" 4318)))) }}
{{- end }}
{{- end }}

{{/* Egress to Postgres. */}}
{{- define "storeplane.egressPostgres" -}}
{{ include "storeplane.egressRule" (dict "peers" .Values.networkPolicy.postgres.peers "ports" (list .Values.networkPolicy.postgres.port)) }}
{{- end }}

{{/* Ingress to a service's metrics port from whoever scrapes it. */}}
{{- define "storeplane.ingressMetrics" -}}
- ports:
    - {protocol: TCP, port: {{ .port }}}
  {{- with .root.Values.networkPolicy.metricsFrom }}
  from:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/* The head of a component's NetworkPolicy, both directions governed. */}}
{{- define "storeplane.networkPolicyHead" -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ .root.Release.Name }}-{{ .component }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "storeplane.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "storeplane.selector" . | nindent 6 }}
  policyTypes: [Ingress, Egress]
{{- end }}
