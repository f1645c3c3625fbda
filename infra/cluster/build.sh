#!/usr/bin/env bash
# Builds the local control plane's binaries from the Go module proxy, once per
# version set, into a cache outside the repository:
#   ${STOREPLANE_CACHE:-~/.cache/storeplane}/bin/<versions>/
# kube-* and etcd come from a throw-away wrapper module that requires
# k8s.io/kubernetes and replaces each k8s.io/* staging module with its
# published v0.X version (k8s.io/kubernetes itself points them at ./staging).
#   build.sh        every binary of the control plane, and Helm
#   build.sh helm   Helm alone, into the same folder (what the chart tests need: minutes less)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
# shellcheck source=../lib/gobuild.sh
gobuild_name=build.sh; . "$here/../lib/gobuild.sh"
cache=${STOREPLANE_CACHE:-$HOME/.cache/storeplane}
bin="$cache/bin/k8s-$KUBERNETES_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION-helm-$HELM_VERSION"
target=${1:-all}
case "$target" in
  all) want=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok helm kwok-stages-v3.yaml) ;;
  helm) want=(helm) ;;
  *) echo "usage: build.sh [helm]" >&2; exit 2 ;;
esac

find_missing() {
  missing=()
  for b in "${want[@]}"; do [ -e "$bin/$b" ] || missing+=("$b"); done
  [ ${#missing[@]} -eq 0 ]
}
if find_missing; then echo "$bin"; exit 0; fi
gobuild_lock "$bin" find_missing "$bin"
gobuild_need_go "${missing[*]}"
# A Go older than the go line of Kubernetes' module fetches the right toolchain from the proxy.
export GOFLAGS=-mod=mod CGO_ENABLED=0
ldflags="-s -w"

build_kube() {
  # The work folder is named after everything that shapes go.mod, so a changed version or
  # recipe starts from a fresh module instead of reusing the old one.
  local recipe work
  recipe=$(cat "$here/versions.env" "$here/build.sh" "$here"/gobuild/*/*.go | sha256sum | cut -c1-12)
  work="$cache/gobuild-k8s-$KUBERNETES_VERSION-$recipe"
  mkdir -p "$work"
  cp -r "$here/gobuild/." "$work/"
  if [ ! -f "$work/go.mod" ]; then
    curl -fsS "${GOPROXY_URL:-https://proxy.golang.org}/k8s.io/kubernetes/@v/v$KUBERNETES_VERSION.mod" -o "$work/upstream.mod"
    {
      echo "module storeplane.local/clusterbuild"
      echo
      echo "go $(sed -n 's/^go //p' "$work/upstream.mod" | head -1)"
      echo
      echo "require ("
      echo "	k8s.io/kubernetes v$KUBERNETES_VERSION"
      echo "	go.etcd.io/etcd/server/v3 v$ETCD_VERSION"
      echo ")"
      echo
      echo "tool ("
      for b in kube-apiserver kube-controller-manager kube-scheduler kubectl; do echo "	k8s.io/kubernetes/cmd/$b"; done
      echo ")"
      echo
      echo "replace ("
      sed -n '/^replace (/,/^)/p' "$work/upstream.mod" | awk -v v="v0.${KUBERNETES_VERSION#1.}" '/=> .\/staging/ {print "\t" $1 " => " $1 " " v}'
      echo ")"
    } > "$work/go.mod.tmp"
    gobuild_progress "resolving the Kubernetes $KUBERNETES_VERSION modules"
    (cd "$work" && mv go.mod.tmp go.mod && go mod tidy) || { rm -f "$work/go.mod"; exit 1; }
  fi
  cd "$work"
  for b in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    [ -x "$bin/$b" ] && continue
    gobuild_progress "building $b $KUBERNETES_VERSION"
    go build -trimpath -ldflags "$ldflags" -o "$bin/$b.tmp" "k8s.io/kubernetes/cmd/$b" && mv "$bin/$b.tmp" "$bin/$b"
  done
  if [ ! -x "$bin/etcd" ]; then
    gobuild_progress "building etcd $ETCD_VERSION"
    go build -trimpath -ldflags "$ldflags" -o "$bin/etcd.tmp" ./etcd && mv "$bin/etcd.tmp" "$bin/etcd"
  fi
}

go_install() { # name module@version
  [ -x "$bin/$1" ] && return 0
  gobuild_progress "building $1 ${2##*@}"
  GOBIN="$bin" go install -trimpath -ldflags "$ldflags" "$2"
}

kwok_stages() {
  # kwok's own stages (how simulated nodes and pods move through their lives), from its module;
  # pod deletion is our own (stages/pod-delete.yaml), added by cluster.py.
  [ -e "$bin/kwok-stages-v3.yaml" ] && return 0
  local stages f
  stages="$(GOFLAGS= go env GOMODCACHE)/sigs.k8s.io/kwok@v$KWOK_VERSION/kustomize/stage"
  for f in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
           pod/general/pod-create pod/general/pod-init-container-running \
           pod/general/pod-init-container-completed pod/general/pod-ready \
           pod/general/pod-complete; do
    # At most 1 s of random delay per stage instead of 5 s: a pod still walks through its
    # init containers to Ready, in seconds rather than half a minute.
    echo "---"; sed 's/jitterDurationMilliseconds: 5000/jitterDurationMilliseconds: 1000/' "$stages/$f.yaml"
  done > "$bin/kwok-stages-v3.yaml.tmp" && mv "$bin/kwok-stages-v3.yaml.tmp" "$bin/kwok-stages-v3.yaml"
}

if [ "$target" = all ]; then
  ( build_kube )
  go_install kwok "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION"
  kwok_stages
fi
go_install helm "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION"
gobuild_progress "built ${missing[*]}"
echo "$bin"
