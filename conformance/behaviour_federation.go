package conformance

import (
	"cmp"
	"fmt"
	"net"
	"slices"

	"meshc.dev/meshc/mesh"
)

// Federation, from the Mesh's spec.peers alone:
//
//   - a sidecar's endpoints for a host the mesh imports are the peer's
//     gateways on 15443 of the networks the import names (all, without
//     any), one per address the Mesh gives there, of equal weight, and
//     nothing else (a gateway given by hostname stays a hostname: the
//     ServiceEntry resolves by DNS, in Envoy);
//   - an east-west gateway's 15443 listener passes the SNI of every port
//     of every exported service (AUTO_PASSTHROUGH), and sends what comes in
//     to the service's pods on the gateway's network (every pod, in a mesh
//     on one network);
//   - in a mesh on one network, it passes no other service of the mesh: only
//     exported hosts reach it. In a mesh of several networks the
//     cross-network Gateway passes every host of the mesh to its own other
//     networks, so nothing is required to be blocked there.

// expectFederation adds what m's peers promise to the proxies of s.
func (s *Scenario) expectFederation(m *mesh.Mesh) {
	for _, p := range s.Proxies {
		if p.Want == nil {
			p.Want = map[string][]Endpoint{}
		}
		if !p.Gateway {
			for _, peer := range m.Spec.Peers {
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
		if len(m.Spec.Peers) == 0 {
			continue
		}
		exported := map[string]bool{}
		for _, h := range m.ExportedHosts() {
			exported[h] = true
		}
		here := proxyNetwork(m, p)
		for si := range m.Spec.Services {
			svc := &m.Spec.Services[si]
			host := svc.Name + "." + svc.Namespace + ".svc.cluster.local"
			runs := runsIn(m, svc)
			if m.MultiNetwork() {
				// The gateway sends what comes in to its own network's pods.
				runs = slices.DeleteFunc(runs, func(x int) bool { return m.Spec.Clusters[x].Network != here })
			}
			for _, port := range svc.Ports {
				sni := fmt.Sprintf("outbound_.%d_._.%s", port.Port, host)
				if !exported[host] {
					if !m.MultiNetwork() {
						p.Blocks = append(p.Blocks, sni)
					}
					continue
				}
				p.Passes = append(p.Passes, sni)
				p.Want[sni] = wantEndpointsOf(m, here, runs, func(x, k int) string { return servicePodIP(si, x, k) }, port.Port)
			}
		}
		if m.MultiNetwork() {
			continue
		}
		p.Blocks = append(p.Blocks, gatewaySNICluster)
	}
}
