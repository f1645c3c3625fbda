#!/usr/bin/env bash
# Installs the system packages Storeplane needs when they are missing: a PostgreSQL
# server (for its read models and users), openssl (for the local cluster's certificates), a C
# compiler (tilt's build, infra/tilt/build.sh), flock (one cold build at a time), wrk (the HTTP load
# generator of `make bench`, pinned by taskset to a core of its own; flock and taskset are util-linux)
# Prometheus (for its `promtool`, which checks infra/alerts/; about 19 MB, its server is not started) and
# Chromium, the browser the dashboard's tests drive through Playwright (its own browser download cannot
# reach its host here), with a font so that its pages and screenshots render text.
# Go must be present to build the local cluster's binaries (infra/cluster/build.sh).
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || need+=(postgresql)
command -v openssl >/dev/null || need+=(openssl)
command -v gcc >/dev/null || need+=(gcc libc6-dev)  # tilt's build links tree-sitter through cgo
{ command -v flock && command -v taskset; } >/dev/null || need+=(util-linux)  # the builds' lock; make bench
command -v wrk >/dev/null || need+=(wrk)
command -v promtool >/dev/null || need+=(prometheus)
command -v chromium >/dev/null || need+=(chromium fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
command -v go >/dev/null || { echo "Go is required to build the local cluster (https://go.dev/dl)" >&2; exit 1; }
