#!/usr/bin/env bash
# Builds the servers and clients the rehearsal runs, from the Go module proxy, into a cache that outlives
# the worktree: $MESHC_E2E_CACHE (default ~/.cache/meshc-e2e)/bin/<tool>-<version>/. A tool whose directory
# exists is not built again, so only the first run pays (about 25 minutes on two busy cores); a failed or
# interrupted build leaves no directory behind. Prints the directory of every tool, one "name=dir" a line.
#
# Usage: build.sh [tool...]   (default: all; tools: etcd kubernetes kwok istio helm)
set -euo pipefail

# Versions. The Istio commit is the one conformance/go.mod pins, so both modules prove the same Istio.
ETCD_VERSION=v3.7.3
K8S_VERSION=v1.37.2
K8S_STAGING_VERSION=v0.37.2
KWOK_VERSION=v0.8.0
ISTIO_VERSION=v0.0.0-20260827124520-eed52ebb66ad
HELM_VERSION=v3.22.0

cache=${MESHC_E2E_CACHE:-$HOME/.cache/meshc-e2e}
mkdir -p "$cache/bin" "$cache/src"
export GOWORK=off GOTOOLCHAIN=local GOFLAGS=-mod=mod

log() { echo "e2e build: $*" >&2; }

# build NAME VERSION FUNC: runs FUNC with $out (a fresh temporary directory) and renames it to the cached
# directory only when FUNC succeeds, so a half-built tool is never mistaken for a built one.
build() {
	local name=$1 version=$2 fn=$3 dir="$cache/bin/$1-$2"
	if [[ ! -d $dir ]]; then
		log "building $name $version (cached in $dir)"
		local start=$SECONDS
		out=$(mktemp -d "$cache/bin/.$name-XXXXXX")
		if ! "$fn"; then rm -rf "$out"; log "building $name $version failed"; return 1; fi
		mv "$out" "$dir"
		log "built $name $version in $((SECONDS - start)) s"
	fi
	echo "$name=$dir"
}

# scratch DIR MODULE@VERSION: a module that requires one dependency, for builds `go install` refuses
# (modules with replace directives).
scratch() {
	rm -rf "$1"; mkdir -p "$1"
	printf 'module meshc.dev/e2e/scratch\n\ngo 1.26\n\nrequire %s %s\n' "${2%@*}" "${2#*@}" >"$1/go.mod"
}

build_etcd() {
	local s="$cache/src/etcd-$ETCD_VERSION"
	scratch "$s" "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
	(cd "$s" && nice -n 10 go build -trimpath -o "$out/etcd" go.etcd.io/etcd/server/v3)
}

# Kubernetes' module zip has neither staging/ nor a usable vendor/: its replace directives point at
# ./staging, so copy the tree, require every staging module at its published version instead, and build
# outside the workspace.
build_kubernetes() {
	local s="$cache/src/kubernetes-$K8S_VERSION"
	local modsrc
	modsrc=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[[ -n $modsrc ]] || { log "no module directory for k8s.io/kubernetes@$K8S_VERSION"; return 1; }
	if [[ ! -f $s/.prepared ]]; then
		rm -rf "$s"; mkdir -p "$s"
		cp -r "$modsrc"/. "$s"/
		chmod -R u+w "$s"
		rm -rf "$s/vendor" "$s/go.work" "$s/go.work.sum"
		# Drop the replace block and pin each k8s.io/* v0.0.0 requirement to the staging release.
		sed -i -e '/^replace (/,/^)/d' -e "s#^\(\t*k8s\.io/[a-z0-9-]*\) v0\.0\.0\$#\1 $K8S_STAGING_VERSION#" "$s/go.mod"
		touch "$s/.prepared"
	fi
	local minor=${K8S_VERSION#v1.}
	minor=${minor%%.*}
	local ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
	(cd "$s" && nice -n 10 go build -trimpath -ldflags "$ldflags" -o "$out/" \
		./cmd/kube-apiserver ./cmd/kube-controller-manager ./cmd/kube-scheduler)
}

build_kwok() {
	(GOBIN="$out" nice -n 10 go install -trimpath "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION")
	# The stage files kwok needs to mark nodes ready and pods running, from the same module.
	local dir
	dir=$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	mkdir -p "$out/stage"
	cp -r "$dir/kustomize/stage"/. "$out/stage"/
	chmod -R u+w "$out/stage"
}

build_helm() {
	(GOBIN="$out" nice -n 10 go install -trimpath "helm.sh/helm/v3/cmd/helm@$HELM_VERSION")
}

build_istio() {
	local s="$cache/src/istio-$ISTIO_VERSION"
	scratch "$s" "istio.io/istio@$ISTIO_VERSION"
	(cd "$s" && nice -n 10 go build -trimpath -o "$out/" istio.io/istio/pilot/cmd/pilot-discovery istio.io/istio/istioctl/cmd/istioctl)
	# The charts of the same commit, for the Helm path's local chart repository.
	local dir
	dir=$(cd "$s" && go mod download -json "istio.io/istio@$ISTIO_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	mkdir -p "$out/charts"
	cp -r "$dir/manifests/charts"/. "$out/charts"/
	chmod -R u+w "$out/charts"
}

tools=("$@")
[[ ${#tools[@]} -gt 0 ]] || tools=(etcd kwok helm istio kubernetes)
for t in "${tools[@]}"; do
	case $t in
	etcd) build etcd "$ETCD_VERSION" build_etcd ;;
	kubernetes) build kubernetes "$K8S_VERSION" build_kubernetes ;;
	kwok) build kwok "$KWOK_VERSION" build_kwok ;;
	helm) build helm "$HELM_VERSION" build_helm ;;
	istio) build istio "$ISTIO_VERSION" build_istio ;;
	*) log "unknown tool $t"; exit 2 ;;
	esac
done
