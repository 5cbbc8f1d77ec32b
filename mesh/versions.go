package mesh

import (
	"fmt"
	"strconv"
	"strings"
)

// IstioChange is a difference between the Istio minor releases a Mesh may
// name (spec.istio.version, 1.24 to 1.31) that meshc's output depends on. The
// table is the source of the version section of docs/helm.md; each entry says
// what meshc does about it: a rule that rejects the combination that would
// break, or output that does not depend on it (checked by a test).
type IstioChange struct {
	// Name identifies the entry for code and tests (ChangeXxx); each entry
	// has a test at its boundary, named after it.
	Name string
	// Since and Until bound the minor releases affected: 1.Since up to, not
	// including, 1.Until; 0 means unbounded.
	Since, Until int
	// What changed in Istio, with the source it was checked against.
	What string
	// Meshc says what meshc emits, or refuses, because of it.
	Meshc string
	// Rule is the ID of the rule that checks it; "" when meshc's output is
	// the same either way.
	Rule string
}

// Names of the IstioChanges entries.
const (
	ChangeNoOperator       = "no-operator"
	ChangeRemovedValues    = "removed-multicluster-values"
	ChangeEndpointSlices   = "remote-istiod-endpointslices"
	ChangeIPv6PilotAddress = "ipv6-remote-pilot-address"
	ChangeIPAutoallocate   = "serviceentry-address-allocation"
	ChangeAmbientBeta      = "ambient-multinetwork-beta"
)

// FirstAmbientMultiNetworkBeta is the first minor release in which ambient
// multicluster is beta, for multi-primary meshes on several networks
// (istio.io blog "ambient-multinetwork-multicluster-beta", February 2026).
const FirstAmbientMultiNetworkBeta = 29

// FirstIPv6RemotePilotAddress is the first minor release whose istiod chart
// treats an IPv6 remotePilotAddress as an IP (istio/istio#58828, merged to
// master in February 2026, after the 1.29 branch; no backport is known).
const FirstIPv6RemotePilotAddress = 30

// IstioChanges lists what differs between the releases meshc targets, oldest
// first.
var IstioChanges = []IstioChange{
	{
		Name:  ChangeNoOperator,
		Since: 24,
		What:  "No in-cluster operator: an IstioOperator is only istioctl's input. The istiod-remote chart is gone: a remote installs the istiod chart with profile: remote (the guides' Helm tabs from 1.24).",
		Meshc: "Targets 1.24 and later only (schema). A remote's values are for the istiod chart with profile: remote; no output names istiod-remote (a test checks every Helm row's chart).",
	},
	{
		Name:  ChangeRemovedValues,
		Since: 27,
		What:  "Values removed from the charts' values.yaml: global.multiCluster.enabled, global.multiCluster.globalDomainSuffix and global.multiCluster.includeEnvoyFilter. The charts ignore them; IstioOperator validation still accepts them at the pinned commit.",
		Meshc: "Never emitted, on either path and for any version (a test scans every rendered values file and IstioOperator). Multicluster is on when clusterName and network are set.",
	},
	{
		Name:  ChangeEndpointSlices,
		Since: 28,
		What:  "A remote's istiod endpoints, rendered from remotePilotAddress when it is an IP, are an EndpointSlice (remote-istiod-endpointslices.yaml) instead of an Endpoints object.",
		Meshc: "Same values either way. The conformance suite follows EndpointSlices, as the pinned chart (1.31) renders; it does not render older charts.",
	},
	{
		Name:  ChangeIPAutoallocate,
		Until: 25,
		What:  "istiod gives a ServiceEntry without addresses none (PILOT_ENABLE_IP_AUTOALLOCATE defaults to true only from 1.25, istio/istio#53661), and a sidecar's DNS proxy answers only hosts with an address: a host imported from a peer does not resolve (NXDOMAIN) unless the proxies allocate addresses themselves with ISTIO_META_DNS_AUTO_ALLOCATE, the setting of the 1.24 DNS proxying guide, deprecated from 1.25.",
		Meshc: "A mesh that imports from peers sets ISTIO_META_DNS_AUTO_ALLOCATE: \"true\" in meshConfig.defaultConfig.proxyMetadata (so every sidecar and VM has it) before 1.25, and not from 1.25 on, where istiod allocates the addresses.",
	},
	{
		Name:  ChangeIPv6PilotAddress,
		Until: FirstIPv6RemotePilotAddress,
		What:  "The istiod chart recognises only IPv4 remotePilotAddress literals (istio/istio#58646): an IPv6 address gets no endpoints and becomes the externalName of the istiod Service, which Kubernetes cannot resolve. Both installers render this chart.",
		Meshc: "A primary whose istiod address (istiod.address or eastWestGateway.address) is IPv6 and serves remotes is an error before 1.30: use a hostname or an IPv4 address, or Istio 1.30 or later.",
		Rule:  "MC014",
	},
	{
		Name:  ChangeAmbientBeta,
		Until: FirstAmbientMultiNetworkBeta,
		What:  "Ambient multicluster is alpha: multi-primary on several networks becomes beta in 1.29 (istio.io blog ambient-multinetwork-multicluster-beta); the east-west gateway of class istio-east-west and pilot's AMBIENT_ENABLE_MULTI_NETWORK are what the 1.29 guide installs (samples/multicluster/gen-eastwest-gateway.sh --ambient).",
		Meshc: "dataPlane: ambient is an error before 1.29: use Istio 1.29 or later, or the sidecar data plane.",
		Rule:  "MC086",
	},
}

// IstioMinor returns the minor release of the Mesh's Istio version ("1.28.0"
// → 28), or 0 when the version does not match the schema.
func (m *Mesh) IstioMinor() int { return MinorOf(m.Spec.Istio.Version) }

// MinorOf is the minor release of an Istio version ("1.28.0" → 28), or 0
// when it does not match the schema.
func MinorOf(version string) int {
	parts := strings.Split(version, ".")
	if len(parts) != 3 || parts[0] != "1" {
		return 0
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil {
		return 0
	}
	return n
}

// IstioChangeOf returns the entry of IstioChanges that rule checks.
func IstioChangeOf(rule string) IstioChange {
	for _, c := range IstioChanges {
		if c.Rule == rule {
			return c
		}
	}
	panic("no IstioChanges entry for rule " + rule)
}

// istioChange returns the entry of IstioChanges called name: output that
// depends on a release reads its bounds from the table, so the docs'
// version table and the output cannot disagree.
func istioChange(name string) IstioChange {
	for _, c := range IstioChanges {
		if c.Name == name {
			return c
		}
	}
	panic("no IstioChanges entry " + name)
}

// Affects reports whether the change applies to Istio 1.minor.
func (c IstioChange) Affects(minor int) bool {
	return (c.Since == 0 || minor >= c.Since) && (c.Until == 0 || minor < c.Until)
}

// Releases describes the minor releases the change affects, as "1.24–1.29"
// or "1.28 and later".
func (c IstioChange) Releases() string {
	switch {
	case c.Since != 0 && c.Until != 0:
		return fmt.Sprintf("1.%d–1.%d", c.Since, c.Until-1)
	case c.Until != 0:
		return fmt.Sprintf("before 1.%d", c.Until)
	case c.Since != 0:
		return fmt.Sprintf("1.%d and later", c.Since)
	}
	return "all"
}
