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

{{/* Environment every service reads: the bus (as the service's own NATS user), logging. */}}
{{- define "storeplane.commonEnv" -}}
- name: STOREPLANE_NATS_URL
  value: {{ .root.Values.nats.url | quote }}
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
