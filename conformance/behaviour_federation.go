package conformance

import (
	"cmp"
	"fmt"
	"net"
	"slices"

	"meshc.dev/meshc/compiler"
)

// Federation, from the Mesh's spec.peers alone:
//
//   - a sidecar's endpoints for a host the mesh imports are the peer's
//     gateways on 15443 of the networks the import names (all, without
//     any), one per address the Mesh gives there, of equal weight, and nothing else (gateways given as IPs: istiod
//     resolves hostnames with DNS, which the harness does not have);
//   - in a mesh on one network, an east-west gateway has an SNI cluster
//     (AUTO_PASSTHROUGH) for every port of every exported service, with the
//     service's pods, and none for any other service of the mesh: only
//     exported hosts pass it.

// expectFederation adds what m's peers promise to the proxies of s.
func (s *Scenario) expectFederation(m *compiler.Mesh) {
	for _, p := range s.Proxies {
		if p.Want == nil {
			p.Want = map[string][]Endpoint{}
		}
		if !p.Gateway {
			for _, peer := range m.Spec.Peers {
				if !peer.GatewaysAreIPs() {
					// istiod resolves gateways given by hostname with DNS,
					// which this harness has none of.
					continue
				}
				for _, im := range peer.Imports {
					var eps []Endpoint
					for _, g := range peer.Gateways {
						if im.Networks == nil || slices.Contains(im.Networks, cmp.Or(g.Network, peer.Network)) {
							eps = append(eps, Endpoint{Address: net.JoinHostPort(g.Address, "15443"), Cluster: p.Istiod, Weight: 1})
						}
					}
					for _, port := range im.Ports {
						p.Want[fmt.Sprintf("outbound|%d||%s", port.Port, im.Host)] = eps
					}
				}
			}
			continue
		}
		if m.MultiNetwork() || len(m.Spec.Peers) == 0 {
			continue
		}
		exported := map[string]bool{}
		for _, peer := range m.Spec.Peers {
			for _, e := range peer.Exports {
				exported[e.Host] = true
			}
		}
		for si := range m.Spec.Services {
			svc := &m.Spec.Services[si]
			host := svc.Name + "." + svc.Namespace + ".svc.cluster.local"
			for _, port := range svc.Ports {
				sni := fmt.Sprintf("outbound_.%d_._.%s", port.Port, host)
				if !exported[host] {
					p.Blocks = append(p.Blocks, sni)
					continue
				}
				p.Passes = append(p.Passes, sni)
				p.Want[sni] = wantEndpointsOf(m, p.Cluster, runsIn(m, svc), func(x, k int) string { return servicePodIP(si, x, k) }, port.Port)
			}
		}
		p.Blocks = append(p.Blocks, gatewaySNICluster)
	}
}
