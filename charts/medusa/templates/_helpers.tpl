{{/* Chart name. */}}
{{- define "medusa.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Base name of every object. Truncated to 40 characters so that suffixed names
("-postgresql-0", "-seed-<hash>-<pod suffix>") stay within 63.
*/}}
{{- define "medusa.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "medusa.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels. Call with (dict "root" $ "component" "server|worker|seed|postgresql|redis"). */}}
{{- define "medusa.selectorLabels" -}}
app.kubernetes.io/name: {{ include "medusa.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Common labels. Call with (dict "root" $ "component" "..."). */}}
{{- define "medusa.labels" -}}
helm.sh/chart: {{ include "medusa.chart" .root }}
{{ include "medusa.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: storeplane
storeplane.io/store-id: {{ .root.Values.store.id | quote }}
{{- end }}

{{/* "repository:tag", or "repository@digest" when the image block has a digest. */}}
{{- define "medusa.image" -}}
{{- if .digest }}
{{- printf "%s@%s" .repository .digest }}
{{- else }}
{{- printf "%s:%s" .repository .tag }}
{{- end }}
{{- end }}

{{- define "medusa.postgresqlName" -}}
{{- printf "%s-postgresql" (include "medusa.fullname" .) }}
{{- end }}

{{- define "medusa.redisName" -}}
{{- printf "%s-redis" (include "medusa.fullname" .) }}
{{- end }}

{{- define "medusa.serverName" -}}
{{- printf "%s-server" (include "medusa.fullname" .) }}
{{- end }}

{{- define "medusa.workerName" -}}
{{- printf "%s-worker" (include "medusa.fullname" .) }}
{{- end }}

{{/* Public URL of the store (no trailing slash). */}}
{{- define "medusa.url" -}}
{{- printf "%s://%s" (ternary "https" "http" (eq (toString .Values.ingress.tls) "true")) (default "localhost" .Values.store.host) }}
{{- end }}

{{/* Origins allowed by Medusa's CORS settings: the store URL and any extra ones. */}}
{{- define "medusa.corsOrigins" -}}
{{- prepend .Values.medusa.extraCorsOrigins (include "medusa.url" .) | join "," }}
{{- end }}

{{/* A secretKeyRef into the credentials Secret. Call with (dict "root" $ "key" "db-password"). */}}
{{- define "medusa.secretRef" -}}
valueFrom:
  secretKeyRef:
    name: {{ .root.Values.credentials.secretName }}
    key: {{ .key }}
{{- end }}

{{/*
Environment of every Medusa container (server, worker, migrations, seed).
Call with (dict "root" $ "mode" "server|worker"). DB_PASSWORD comes before
DATABASE_URL: Kubernetes expands $(DB_PASSWORD) only from variables defined
earlier in the list, so the password never appears in the manifest.
*/}}
{{- define "medusa.env" -}}
{{- $root := .root -}}
- name: NODE_ENV
  value: production
- name: PORT
  value: "9000"
- name: MEDUSA_WORKER_MODE
  value: {{ .mode | quote }}
- name: DB_PASSWORD
  {{- include "medusa.secretRef" (dict "root" $root "key" "db-password") | nindent 2 }}
- name: DATABASE_URL
  value: {{ printf "postgres://%s:$(DB_PASSWORD)@%s:5432/%s?sslmode=disable" $root.Values.postgresql.user (include "medusa.postgresqlName" $root) $root.Values.postgresql.database | quote }}
- name: REDIS_URL
  value: {{ printf "redis://%s:6379" (include "medusa.redisName" $root) | quote }}
# Medusa's Redis event bus and workflow engine, which u11d's starter config enables only
# when these are set: without them each process keeps events and workflow state in its own
# memory, and the worker would never see what the server emits.
- name: EVENTS_REDIS_URL
  value: {{ printf "redis://%s:6379" (include "medusa.redisName" $root) | quote }}
- name: WE_REDIS_URL
  value: {{ printf "redis://%s:6379" (include "medusa.redisName" $root) | quote }}
- name: JWT_SECRET
  {{- include "medusa.secretRef" (dict "root" $root "key" "jwt-secret") | nindent 2 }}
- name: COOKIE_SECRET
  {{- include "medusa.secretRef" (dict "root" $root "key" "cookie-secret") | nindent 2 }}
- name: STORE_CORS
  value: {{ include "medusa.corsOrigins" $root | quote }}
- name: ADMIN_CORS
  value: {{ include "medusa.corsOrigins" $root | quote }}
- name: AUTH_CORS
  value: {{ include "medusa.corsOrigins" $root | quote }}
# Public URL: MEDUSA_BACKEND_URL (Medusa's docs), BACKEND_URL (u11d's starter config).
- name: MEDUSA_BACKEND_URL
  value: {{ include "medusa.url" $root | quote }}
- name: BACKEND_URL
  value: {{ include "medusa.url" $root | quote }}
# Only the server serves the admin dashboard: DISABLE_MEDUSA_ADMIN (Medusa's
# docs), IS_ADMIN_DISABLED (u11d's starter config).
- name: DISABLE_MEDUSA_ADMIN
  value: {{ eq .mode "worker" | quote }}
- name: IS_ADMIN_DISABLED
  value: {{ eq .mode "worker" | quote }}
{{- with $root.Values.medusa.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Init container that waits until the Medusa server answers /health, which it
does only after its `migrate` init container has finished.
*/}}
{{- define "medusa.waitForServer" -}}
- name: wait-for-server
  image: {{ include "medusa.image" .Values.waitFor.image }}
  imagePullPolicy: {{ .Values.waitFor.image.pullPolicy }}
  command:
    - sh
    - -c
    - until wget -q -T 2 -O /dev/null http://{{ include "medusa.serverName" . }}:9000/health; do echo "waiting for the Medusa server"; sleep 3; done
  resources:
    {{- toYaml .Values.waitFor.resources | nindent 4 }}
  securityContext:
    {{- toYaml .Values.containerSecurityContext | nindent 4 }}
{{- end }}

{{/* Pod template of the seed Job (see seed-job.yaml). */}}
{{- define "medusa.seedPod" -}}
metadata:
  labels:
    {{- include "medusa.labels" (dict "root" . "component" "seed") | nindent 4 }}
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  enableServiceLinks: false
  securityContext:
    {{- toYaml .Values.medusa.podSecurityContext | nindent 4 }}
  initContainers:
    {{- include "medusa.waitForServer" . | nindent 4 }}
  containers:
    - name: seed
      image: {{ include "medusa.image" .Values.medusa.image }}
      imagePullPolicy: {{ .Values.medusa.image.pullPolicy }}
      workingDir: {{ .Values.medusa.workingDir }}
      # Seeds only a store without products: a repeated Job is harmless.
      # Exit codes of the check: 0 has products, 1 has none, 2 error.
      args:
        - sh
        - -c
        - |
          node -e '
            const { Client } = require("pg");
            const db = new Client({ connectionString: process.env.DATABASE_URL });
            db.connect()
              .then(() => db.query("SELECT 1 FROM product WHERE deleted_at IS NULL LIMIT 1"))
              .then((r) => process.exit(r.rowCount > 0 ? 0 : 1))
              .catch((e) => { console.error(e.message); process.exit(2); });
          '
          case $? in
            0) echo "the store has products: nothing to seed" ;;
            1) exec npx medusa exec "$SEED_SCRIPT" ;;
            *) exit 1 ;;
          esac
      env:
        {{- include "medusa.env" (dict "root" . "mode" "server") | nindent 8 }}
        - name: SEED_SCRIPT
          value: {{ .Values.seed.script | quote }}
      resources:
        {{- toYaml .Values.seed.resources | nindent 8 }}
      securityContext:
        {{- toYaml .Values.containerSecurityContext | nindent 8 }}
{{- end }}
