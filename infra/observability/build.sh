#!/usr/bin/env bash
# Builds the local observability backends from the Go module proxy, once per version,
# into a cache outside the repository (like infra/cluster/build.sh):
#   ${STOREPLANE_CACHE:-~/.cache/storeplane}/bin/observability-vm-<v>-jaeger-<v>/
#   build.sh                 VictoriaMetrics single-node (vmui embedded) and Jaeger v2
#   build.sh victoria-metrics | jaeger   one of them
# Each binary is built in a throw-away module of its own (go get -tool, then go build),
# so their dependency graphs never meet. Prints the folder on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
# shellcheck source=../lib/gobuild.sh
gobuild_name="observability build"; . "$here/../lib/gobuild.sh"
cache=${STOREPLANE_CACHE:-$HOME/.cache/storeplane}
bin="$cache/bin/observability-vm-$VICTORIAMETRICS_VERSION-jaeger-$JAEGER_VERSION"
target=${1:-all}
case "$target" in
  all) want=(victoria-metrics jaeger) ;;
  victoria-metrics|jaeger) want=("$target") ;;
  *) echo "usage: build.sh [victoria-metrics|jaeger]" >&2; exit 2 ;;
esac

find_missing() {
  missing=()
  for b in "${want[@]}"; do [ -x "$bin/$b" ] || missing+=("$b"); done
  [ ${#missing[@]} -eq 0 ]
}
if find_missing; then echo "$bin"; exit 0; fi
gobuild_lock "$bin" find_missing "$bin"
gobuild_need_go "${missing[*]}"
export CGO_ENABLED=0

go_tool() { # name package version
  [ -x "$bin/$1" ] && return 0
  local work="$cache/gobuild-$1-$3"
  gobuild_progress "building $1 $3"
  mkdir -p "$work"
  if [ ! -f "$work/go.mod" ]; then
    (cd "$work" && go mod init "storeplane.local/build-$1" >/dev/null 2>&1 \
      && go get -tool "$2@v$3") || { rm -f "$work/go.mod"; exit 1; }
  fi
  (cd "$work" && go build -trimpath -ldflags "-s -w" -o "$bin/$1.tmp" "$2") && mv "$bin/$1.tmp" "$bin/$1"
}

for b in "${missing[@]}"; do
  case "$b" in
    victoria-metrics) go_tool victoria-metrics github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics "$VICTORIAMETRICS_VERSION" ;;
    jaeger) go_tool jaeger github.com/jaegertracing/jaeger/cmd/jaeger "$JAEGER_VERSION" ;;
  esac
done
gobuild_progress "built ${missing[*]}"
echo "$bin"
