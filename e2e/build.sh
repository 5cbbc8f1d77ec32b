#!/usr/bin/env bash
# Builds the servers and clients the rehearsal runs, from the Go module proxy, into a cache that outlives
# the worktree: $MESHC_E2E_CACHE (default ~/.cache/meshc-e2e)/bin/<tool>-<version>/. A tool whose directory
# exists is not built again, so only the first run pays (about 25 minutes on two busy cores); a failed or
# interrupted build leaves no directory behind. Prints the directory of every tool, one "name=dir" a line.
#
# Usage: build.sh [tool...]   (default: all; tools: etcd kubernetes kwok istio helm gateway-api)
set -euo pipefail

# Versions. The Istio commit is the one conformance/go.mod pins, so both modules prove the same Istio.
ETCD_VERSION=v3.7.3
K8S_VERSION=v1.37.2
K8S_STAGING_VERSION=v0.37.2
KWOK_VERSION=v0.8.0
ISTIO_VERSION=v0.0.0-20260827124520-eed52ebb66ad
HELM_VERSION=v3.22.0
# The Gateway API release conformance/go.mod pins (Istio's own pin): its CRDs, for the ambient cases.
GATEWAY_API_VERSION=v1.6.0

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
cache=${MESHC_E2E_CACHE:-$HOME/.cache/meshc-e2e}
mkdir -p "$cache/bin" "$cache/src"
export GOWORK=off GOTOOLCHAIN=local GOFLAGS="-mod=mod -buildvcs=false"

log() { echo "e2e build: $*" >&2; }

# An interrupted build leaves no half-built directory.
out=
trap '[[ -n $out ]] && rm -rf "$out"' EXIT
trap 'exit 130' INT TERM

# build NAME VERSION FUNC: runs FUNC with $out (a fresh temporary directory) and renames it to the cached
# directory only when FUNC succeeds, so a half-built tool is never mistaken for a built one.
build() {
	local name=$1 version=$2 fn=$3 dir="$cache/bin/$1-$2"
	if [[ ! -d $dir ]]; then
		log "building $name $version (cached in $dir)"
		local start=$SECONDS
		out=$(mktemp -d "$cache/bin/.$name-XXXXXX")
		if ! "$fn"; then rm -rf "$out"; out=; log "building $name $version failed"; return 1; fi
		mv "$out" "$dir"
		out=
		log "built $name $version in $((SECONDS - start)) s"
	fi
	echo "$name=$dir"
}

# scratch DIR MODULE@VERSION: a module that requires one dependency, for builds `go install` refuses
# (modules with replace directives).
scratch() {
	rm -rf "$1" && mkdir -p "$1" &&
		printf 'module meshc.dev/e2e/scratch\n\ngo 1.26\n\nrequire %s %s\n' "${2%@*}" "${2#*@}" >"$1/go.mod"
}

# moddir MODULE@VERSION: the module's directory in the module cache.
moddir() {
	local d
	d=$(go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p') || return 1
	[[ -n $d ]] || { log "no module directory for $1"; return 1; }
	echo "$d"
}

# The build functions run in an `if`, where `set -e` does not apply: every
# step ends in `|| return 1`.

build_etcd() {
	local s="$cache/src/etcd-$ETCD_VERSION"
	scratch "$s" "go.etcd.io/etcd/server/v3@$ETCD_VERSION" || return 1
	(cd "$s" && nice -n 10 go build -trimpath -o "$out/etcd" go.etcd.io/etcd/server/v3) || return 1
}

# Kubernetes' module zip has neither staging/ nor a usable vendor/: its replace directives point at
# ./staging, so copy the tree, require every staging module at its published version instead, and build
# outside the workspace.
build_kubernetes() {
	local s="$cache/src/kubernetes-$K8S_VERSION" modsrc
	modsrc=$(moddir "k8s.io/kubernetes@$K8S_VERSION") || return 1
	if [[ ! -f $s/.prepared ]]; then
		rm -rf "$s" && mkdir -p "$s" && cp -r "$modsrc"/. "$s"/ && chmod -R u+w "$s" || return 1
		rm -rf "$s/vendor" "$s/go.work" "$s/go.work.sum" || return 1
		# Drop the replace block and pin each k8s.io/* v0.0.0 requirement to the staging release.
		sed -i -e '/^replace (/,/^)/d' -e "s#^\(\t*k8s\.io/[a-z0-9-]*\) v0\.0\.0\$#\1 $K8S_STAGING_VERSION#" "$s/go.mod" || return 1
		touch "$s/.prepared"
	fi
	local minor=${K8S_VERSION#v1.}
	minor=${minor%%.*}
	local ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
	(cd "$s" && nice -n 10 go build -trimpath -ldflags "$ldflags" -o "$out/" \
		./cmd/kube-apiserver ./cmd/kube-controller-manager ./cmd/kube-scheduler) || return 1
}

build_kwok() {
	GOBIN="$out" nice -n 10 go install -trimpath "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" || return 1
	# The stage files kwok needs to mark nodes ready and pods running, from the same module.
	local dir
	dir=$(moddir "sigs.k8s.io/kwok@$KWOK_VERSION") || return 1
	mkdir -p "$out/stage" && cp -r "$dir/kustomize/stage"/. "$out/stage"/ && chmod -R u+w "$out/stage" || return 1
}

build_helm() {
	GOBIN="$out" nice -n 10 go install -trimpath "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" || return 1
}

# Istio builds in the conformance module's dependency graph, without
# -trimpath, so the packages `make conformance` compiled come from Go's build
# cache instead of being compiled again.
build_istio() {
	local s="$cache/src/istio-$ISTIO_VERSION" dir
	rm -rf "$s" && mkdir -p "$s" || return 1
	sed -e 's#^module .*#module meshc.dev/e2e/scratch#' -e '/^[[:space:]]*meshc\.dev\/meshc v/d' -e '/^replace meshc\.dev\/meshc/d' \
		"$here/../conformance/go.mod" >"$s/go.mod" || return 1
	cp "$here/../conformance/go.sum" "$s/go.sum" || return 1
	grep -q "istio.io/istio $ISTIO_VERSION" "$s/go.mod" || { log "conformance/go.mod does not pin istio.io/istio $ISTIO_VERSION"; return 1; }
	(cd "$s" && nice -n 10 go build -o "$out/" istio.io/istio/pilot/cmd/pilot-discovery istio.io/istio/istioctl/cmd/istioctl) || return 1
	# The charts of the same commit, for the Helm path's local chart repository.
	dir=$(cd "$s" && moddir "istio.io/istio@$ISTIO_VERSION") || return 1
	mkdir -p "$out/charts" && cp -r "$dir/manifests/charts"/. "$out/charts"/ && chmod -R u+w "$out/charts" || return 1
}

# The Gateway API CRDs are the cluster's, not the plan's (PLAN.md, phase gateway-api, says to install them
# with `kubectl kustomize .../config/crd?ref=<release>`): the same kustomization, from the module proxy.
build_gateway_api() {
	local dir
	grep -q "sigs.k8s.io/gateway-api $GATEWAY_API_VERSION" "$here/../conformance/go.mod" || { log "conformance/go.mod does not pin sigs.k8s.io/gateway-api $GATEWAY_API_VERSION"; return 1; }
	dir=$(moddir "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION") || return 1
	mkdir -p "$out/crd" && cp -r "$dir/config/crd"/. "$out/crd"/ && chmod -R u+w "$out/crd" || return 1
}

tools=("$@")
[[ ${#tools[@]} -gt 0 ]] || tools=(etcd kwok helm gateway-api istio kubernetes)
for t in "${tools[@]}"; do
	case $t in
	etcd) build etcd "$ETCD_VERSION" build_etcd ;;
	kubernetes) build kubernetes "$K8S_VERSION" build_kubernetes ;;
	kwok) build kwok "$KWOK_VERSION" build_kwok ;;
	helm) build helm "$HELM_VERSION" build_helm ;;
	istio) build istio "$ISTIO_VERSION" build_istio ;;
	gateway-api) build gateway-api "$GATEWAY_API_VERSION" build_gateway_api ;;
	*) log "unknown tool $t"; exit 2 ;;
	esac
done
