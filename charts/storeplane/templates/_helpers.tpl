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

{{/* Environment every service reads: the bus, logging. */}}
{{- define "storeplane.commonEnv" -}}
- name: STOREPLANE_NATS_URL
  value: {{ .Values.nats.url | quote }}
- name: STOREPLANE_LOG_JSON
  value: "true"
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
