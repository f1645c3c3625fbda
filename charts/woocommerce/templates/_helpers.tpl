{{/* Chart name. */}}
{{- define "woocommerce.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Base name of every object. Truncated to 40 characters so that suffixed names
("-wordpress", "-mysql-0" plus the StatefulSet revision hash) stay within 63.
*/}}
{{- define "woocommerce.fullname" -}}
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

{{- define "woocommerce.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels. Call with (dict "root" $ "component" "wordpress|mysql"). */}}
{{- define "woocommerce.selectorLabels" -}}
app.kubernetes.io/name: {{ include "woocommerce.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Common labels. Call with (dict "root" $ "component" "wordpress|mysql"). */}}
{{- define "woocommerce.labels" -}}
helm.sh/chart: {{ include "woocommerce.chart" .root }}
{{ include "woocommerce.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: storeplane
storeplane.io/store-id: {{ .root.Values.store.id | quote }}
{{- end }}

{{/* "repository:tag" from an image block. */}}
{{- define "woocommerce.image" -}}
{{- printf "%s:%s" .repository .tag }}
{{- end }}

{{- define "woocommerce.mysqlName" -}}
{{- printf "%s-mysql" (include "woocommerce.fullname" .) }}
{{- end }}

{{- define "woocommerce.wordpressName" -}}
{{- printf "%s-wordpress" (include "woocommerce.fullname" .) }}
{{- end }}

{{/* Public URL of the store. */}}
{{- define "woocommerce.url" -}}
{{- printf "%s://%s" (ternary "https" "http" (eq (toString .Values.ingress.tls) "true")) (default "localhost" .Values.store.host) }}
{{- end }}

{{/* Database settings read by wp-config.php (WordPress and wp-cli containers). */}}
{{- define "woocommerce.wordpressDbEnv" -}}
- name: WORDPRESS_DB_HOST
  value: {{ printf "%s:3306" (include "woocommerce.mysqlName" .) | quote }}
- name: WORDPRESS_DB_NAME
  value: {{ .Values.mysql.database | quote }}
- name: WORDPRESS_DB_USER
  value: {{ .Values.mysql.user | quote }}
- name: WORDPRESS_DB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.credentials.secretName }}
      key: db-password
{{- end }}

{{/*
The set-up Job's script (WP-CLI); every step is skipped when already done.
The admin login comes from the credentials Secret and never enters a command line (any
process's argv is readable in /proc): printf is a builtin of the image's sh, and WP-CLI's
--prompt reads the listed arguments from stdin, one line each, in the order of the
command's synopsis (admin_user, admin_password, admin_email). Its stdout, which a line
editor may echo the input to, is discarded.
*/}}
{{- define "woocommerce.setupScript" -}}
cd /var/www/html
if ! wp core is-installed; then
  printf '%s\n' "$WP_ADMIN_USER" "$WP_ADMIN_PASSWORD" "$WP_ADMIN_EMAIL" |
    wp core install --url="$WP_URL" --title="$WP_TITLE" --skip-email \
      --prompt=admin_user,admin_password,admin_email >/dev/null
  echo "WordPress installed"
fi
# Pretty permalinks, unless the owner chose some: /wp-json/ (the Store API URL) is routed
# only with them (the image's .htaccess sends every path to index.php).
[ -n "$(wp option get permalink_structure)" ] || wp rewrite structure '/%postname%/'
if [ -n "$WC_VERSION" ]; then
  wp plugin is-installed woocommerce || wp plugin install woocommerce --version="$WC_VERSION"
  wp plugin is-active woocommerce || wp plugin activate woocommerce
fi
{{- end }}
