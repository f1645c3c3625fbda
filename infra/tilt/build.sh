#!/usr/bin/env bash
# Builds `tilt` from the Go module proxy, once, into the cache outside the repository:
#   ${STOREPLANE_CACHE:-~/.cache/storeplane}/bin/tilt-<version>/tilt
# `go install github.com/tilt-dev/tilt/cmd/tilt@...` refuses it (its go.mod has replace
# directives), so a throw-away module requires tilt and carries the same replaces, as
# infra/cluster/build.sh does for Kubernetes. Prints the binary's path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/gobuild.sh
gobuild_name="tilt build"; . "$here/../lib/gobuild.sh"
TILT_VERSION=${TILT_VERSION:-0.37.1}  # the newest v0.37 the module proxy serves here
cache=${STOREPLANE_CACHE:-$HOME/.cache/storeplane}
bin="$cache/bin/tilt-$TILT_VERSION"
built() { [ -x "$bin/tilt" ]; }
if built; then echo "$bin/tilt"; exit 0; fi
gobuild_lock "$bin" built "$bin/tilt"
gobuild_need_go "tilt $TILT_VERSION"
work="$cache/gobuild-tilt-$TILT_VERSION"
mkdir -p "$work"
cd "$work"
if [ ! -f go.mod ]; then
  gobuild_progress "resolving tilt $TILT_VERSION's modules"
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
gobuild_progress "building tilt $TILT_VERSION"
GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$bin/tilt.tmp" github.com/tilt-dev/tilt/cmd/tilt
mv "$bin/tilt.tmp" "$bin/tilt"
gobuild_progress "built tilt $TILT_VERSION"
echo "$bin/tilt"
