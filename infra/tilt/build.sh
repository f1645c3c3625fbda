#!/usr/bin/env bash
# Builds `tilt` from the Go module proxy, once, into the cache outside the repository:
#   ${STOREPLANE_CACHE:-~/.cache/storeplane}/bin/tilt-<version>/tilt
# `go install github.com/tilt-dev/tilt/cmd/tilt@...` refuses it (its go.mod has replace
# directives), so a throw-away module requires tilt and carries the same replaces, as
# infra/cluster/build.sh does for Kubernetes. Prints the binary's path.
set -euo pipefail
TILT_VERSION=${TILT_VERSION:-0.37.1}  # the newest v0.37 the module proxy serves here
cache=${STOREPLANE_CACHE:-$HOME/.cache/storeplane}
bin="$cache/bin/tilt-$TILT_VERSION"
if [ -x "$bin/tilt" ]; then echo "$bin/tilt"; exit 0; fi

mkdir -p "$bin"
exec 9>"$bin.lock"  # one build at a time: a second waits, then uses the first's
if ! flock -n 9; then
  echo "tilt build: another build is running; waiting for it to finish" >&2
  flock 9
  if [ -x "$bin/tilt" ]; then echo "$bin/tilt"; exit 0; fi
fi
command -v go >/dev/null || { echo "tilt build: Go is needed to build tilt $TILT_VERSION" >&2; exit 1; }
start=$(date +%s)
work="$cache/gobuild-tilt-$TILT_VERSION"
mkdir -p "$work"
cd "$work"
if [ ! -f go.mod ]; then
  echo "tilt build: resolving tilt $TILT_VERSION's modules" >&2
  info=$(GOFLAGS=-mod=mod go mod download -json "github.com/tilt-dev/tilt@v$TILT_VERSION")
  upstream=$(sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p' <<<"$info")
  # The checksum database does not know starlark-lsp's pseudo-version that tilt pins (it answers
  # 404), so its checksums come from tilt's own go.sum; every other module is checked as usual.
  grep '^github.com/tilt-dev/starlark-lsp ' "$(sed -n 's/^\t"Dir": "\(.*\)",$/\1/p' <<<"$info")/go.sum" > go.sum
  {
    echo "module storeplane.local/tiltbuild"
    echo
    echo "go $(sed -n 's/^go //p' "$upstream" | head -1)"
    echo
    echo "require github.com/tilt-dev/tilt v$TILT_VERSION"
    echo
    echo "tool github.com/tilt-dev/tilt/cmd/tilt"
    echo
    sed -n '/^replace (/,/^)/p' "$upstream"
  } > go.mod.tmp
  mv go.mod.tmp go.mod
  GOFLAGS=-mod=mod go mod tidy || { rm -f go.mod go.sum; exit 1; }
fi
# tilt links tree-sitter (its Starlark language server) through cgo, so this build needs a C compiler.
echo "tilt build: building tilt $TILT_VERSION ($(( $(date +%s) - start ))s elapsed)" >&2
GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$bin/tilt.tmp" github.com/tilt-dev/tilt/cmd/tilt
mv "$bin/tilt.tmp" "$bin/tilt"
echo "tilt build: built tilt $TILT_VERSION in $(( $(date +%s) - start ))s" >&2
echo "$bin/tilt"
