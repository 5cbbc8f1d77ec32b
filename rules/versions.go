package rules

import (
	"net/netip"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
)

func checkIPv6IstiodAddressBefore130(m *mesh.Mesh, report func(string, string, ...any)) {
	// The releases come from the table entry that names this rule, so the
	// docs' version table and the check cannot disagree.
	minor := m.IstioMinor()
	if minor == 0 || !mesh.IstioChangeOf("MC014").Affects(minor) {
		return
	}
	for i, c := range m.Spec.Clusters {
		rs := m.Remotes(c.Name)
		if !c.IsPrimary() || len(rs) == 0 {
			continue
		}
		addr, field := c.IstiodAddress(), "eastWestGateway.address"
		if c.Istiod != nil && c.Istiod.Address != "" {
			field = "istiod.address"
		}
		ip, err := netip.ParseAddr(addr)
		if err != nil || !ip.Is6() || ip.Is4In6() {
			continue
		}
		names := make([]string, len(rs))
		for k, r := range rs {
			names[k] = r.Name
		}
		report(clusterPath(i, field), "%s reaches istiod at the IPv6 address %s, which Istio %s's istiod chart does not recognise as an IP (remotePilotAddress becomes an unresolvable externalName); use a hostname or an IPv4 address, or Istio 1.%d or later",
			diag.Plural("remote", names), addr, m.Spec.Istio.Version, mesh.FirstIPv6RemotePilotAddress)
	}
}
