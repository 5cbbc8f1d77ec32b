package rules

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
)

// The rules of mesh federation (MC040–MC049, MC070–MC071); MC049 compares
// the Mesh files of peers given together (VetPeers).

// peerGatewayRules are the rows of the rule table for the peers' gateways
// as the istio-remote Gateway API Gateway lists them.
var peerGatewayRules = []Rule{
	{
		ID: "MC070", Name: "duplicate-peer-gateway",
		Protects: "A gateway address given twice among the peers' gateways, or a peer gateway at the address of this mesh's own east-west gateway (IP addresses compared in their canonical form), on one network or several, of one peer or two.",
		Symptom:  "The API server refuses the istio-remote Gateway (spec.addresses: IPAddress values must be unique) and the plan stops; across networks or peers, one gateway would stand for two networks, and istiod would send one network's requests to a gateway that forwards only to the other's endpoints; at this mesh's own gateway, the peer's hosts reach no endpoint.",
		check:    checkDuplicatePeerGateway,
	},
	{
		ID: "MC071", Name: "too-many-peer-gateways",
		Protects: "More than 16 gateways of a peer on one network: the Gateway API allows a Gateway at most 16 addresses.",
		Symptom:  "The API server refuses the network's istio-remote Gateway (spec.addresses: Too many: must have at most 16 items) and the plan stops; no endpoint of the peer is reachable.",
		check:    checkTooManyPeerGateways,
	},
}

// MaxGatewayAddresses is the most addresses a Gateway API Gateway holds
// (its CRD's spec.addresses maxItems).
const MaxGatewayAddresses = 16

func checkDuplicatePeerGateway(m *mesh.Mesh, report func(string, string, ...any)) {
	first := map[string]string{}
	// This mesh's own east-west gateways: a peer's traffic sent there
	// would only reach this mesh's own endpoints.
	for i, c := range m.Spec.Clusters {
		if c.EastWestGateway != nil && c.EastWestGateway.Address != "" {
			first[canonicalAddress(c.EastWestGateway.Address)] = fmt.Sprintf("spec.clusters[%d].eastWestGateway.address (this mesh's own gateway in %s)", i, c.Name)
		}
	}
	for i, p := range m.Spec.Peers {
		for j, g := range p.Gateways {
			path := fmt.Sprintf("%s[%d].address", peerPath(i, "gateways"), j)
			k := canonicalAddress(g.Address)
			if other, ok := first[k]; ok {
				if strings.HasPrefix(other, "spec.clusters") {
					report(path, "%s is %s: istiod would send the peer's hosts to this mesh's own gateway, which reaches none of them; give the peer's gateway", diag.Quote(g.Address), other)
				} else {
					report(path, "%s is already the gateway address at %s; a gateway is listed once, on the one network behind it", diag.Quote(g.Address), other)
				}
				continue
			}
			first[k] = path
		}
	}
}

// canonicalAddress is addr as the network sees it: an IP address in its
// canonical form (the schema keeps host names in lower case already).
func canonicalAddress(addr string) string {
	if ip, err := netip.ParseAddr(addr); err == nil {
		return ip.Unmap().String()
	}
	return addr
}

// checkTooManyPeerGateways refuses rather than splitting a network over
// several Gateways: see docs/federation.md.
func checkTooManyPeerGateways(m *mesh.Mesh, report func(string, string, ...any)) {
	for i := range m.Spec.Peers {
		p := &m.Spec.Peers[i]
		for _, n := range p.Networks() {
			if len(n.Gateways) > MaxGatewayAddresses {
				report(peerPath(i, "gateways"), "peer %q has %d gateways on network %q; its istio-remote Gateway holds at most %d addresses (the Gateway API's limit): put the peer's gateways behind fewer addresses, a load balancer or a DNS name", p.MeshID, len(n.Gateways), n.Name, MaxGatewayAddresses)
			}
		}
	}
}

// checkPeerIsSelf also refuses cluster.local on either side: Istio's
// authorization reads a principal in cluster.local as one of the local
// trust domain, so that name cannot tell a peer's identities from this
// mesh's own.
func checkPeerIsSelf(m *mesh.Mesh, report func(string, string, ...any)) {
	if len(m.Spec.Peers) > 0 && m.Spec.TrustDomain == mesh.ClusterDomain {
		report("spec.trustDomain", "a mesh with peers needs a trust domain of its own: its peers' authorization policies would name its workloads %s/ns/.../sa/..., which Istio reads as their own local service accounts", mesh.ClusterDomain)
	}
	for i, p := range m.Spec.Peers {
		if p.MeshID == m.Spec.MeshID {
			report(peerPath(i, "meshID"), "peer mesh ID %q is this mesh's own; a peer is another mesh, with its own mesh ID", p.MeshID)
		}
		switch p.TrustDomain {
		case m.Spec.TrustDomain:
			report(peerPath(i, "trustDomain"), "peer %q has this mesh's trust domain %q; federated meshes keep their own trust domains (set spec.trustDomain in each Mesh file)", p.MeshID, p.TrustDomain)
		case mesh.ClusterDomain:
			report(peerPath(i, "trustDomain"), "peer %q has trust domain %s, which Istio reads in authorization policies as this mesh's own: a policy naming %s/ns/x/sa/y would match this mesh's service account ns/x/sa/y, not the peer's; give the peer a trust domain of its own (its spec.trustDomain)", p.MeshID, mesh.ClusterDomain, mesh.ClusterDomain)
		}
	}
}

func checkDuplicatePeer(m *mesh.Mesh, report func(string, string, ...any)) {
	for _, f := range []struct {
		field string
		key   func(*mesh.Peer) string
	}{
		{"meshID", func(p *mesh.Peer) string { return p.MeshID }},
		{"trustDomain", func(p *mesh.Peer) string { return p.TrustDomain }},
	} {
		first := map[string]int{}
		for i := range m.Spec.Peers {
			k := f.key(&m.Spec.Peers[i])
			if j, ok := first[k]; ok {
				report(peerPath(i, f.field), "%s %q is already the %s of %s; each peer has its own", f.field, k, f.field, peerPath(j, ""))
				continue
			}
			first[k] = i
		}
	}
	// A network is one peer's, whether it names it as the peer's network or
	// a gateway's: istiod sends every gateway of a network in place of its
	// endpoints.
	type use struct {
		peer int
		path string
	}
	first := map[string]use{}
	for i := range m.Spec.Peers {
		for _, n := range peerNetworkPaths(m, i) {
			if u, ok := first[n.name]; ok && u.peer != i {
				report(n.path, "network %q is already the network of %s; each peer has its own", n.name, strings.TrimSuffix(u.path, ".network"))
				continue
			}
			if _, ok := first[n.name]; !ok {
				first[n.name] = use{i, n.path}
			}
		}
	}
}

// peerNetworkPaths lists, for peer i, each network this mesh places its
// endpoints on, with the path of the field that names it: the peer's
// network, then each gateway's own.
func peerNetworkPaths(m *mesh.Mesh, i int) []struct{ name, path string } {
	p := &m.Spec.Peers[i]
	out := []struct{ name, path string }{{p.Network, peerPath(i, "network")}}
	for j, g := range p.Gateways {
		if g.Network != "" {
			out = append(out, struct{ name, path string }{g.Network, fmt.Sprintf("%s[%d].network", peerPath(i, "gateways"), j)})
		}
	}
	return out
}

func checkPeerNetworkOverlap(m *mesh.Mesh, report func(string, string, ...any)) {
	local := map[string]bool{}
	for _, n := range m.Spec.Networks {
		local[n.Name] = true
	}
	for i, p := range m.Spec.Peers {
		for _, n := range peerNetworkPaths(m, i) {
			if local[n.name] {
				report(n.path, "peer %q is placed on network %q, which is one of this mesh's networks: istiod would send its endpoints as local ones, bypassing its gateways; name a network of its own", p.MeshID, n.name)
			}
		}
	}
}

func checkPeerWithoutGateway(m *mesh.Mesh, report func(string, string, ...any)) {
	for i := range m.Spec.Peers {
		p := &m.Spec.Peers[i]
		if len(p.Imports) > 0 && len(p.Gateways) == 0 {
			report(peerPath(i, ""), "this mesh imports %s from peer %q, which has no gateway address to reach it at; add gateways with the addresses of its east-west gateways",
				diag.Plural("service", mesh.ImportHosts(p.Imports)), p.MeshID)
			continue
		}
		var names []string
		for _, n := range p.Networks() {
			names = append(names, n.Name)
		}
		for j, s := range p.Imports {
			path := fmt.Sprintf("%s[%d].networks", peerPath(i, "imports"), j)
			if s.Networks != nil && len(s.Networks) == 0 {
				report(path, "%s is imported from no network of peer %q: list the networks of its gateways where the peer runs it (%s), or leave networks out for all", s.Host, p.MeshID, strings.Join(names, ", "))
			}
			for k, n := range s.Networks {
				if !slices.Contains(names, n) {
					report(fmt.Sprintf("%s[%d]", path, k), "no gateway of peer %q is on network %q, so %s would have no endpoint there (its gateways are on %s)",
						p.MeshID, n, s.Host, strings.Join(names, ", "), diag.Suggested(diag.Suggest(n, names)))
				}
			}
		}
	}
}

func checkImportCollision(m *mesh.Mesh, report func(string, string, ...any)) {
	local := map[string]bool{}
	for _, s := range m.Spec.Services {
		local[s.Host()] = true
	}
	first := map[string]string{}
	// This mesh's own east-west gateways: a peer's traffic sent there
	// would only reach this mesh's own endpoints.
	for i, c := range m.Spec.Clusters {
		if c.EastWestGateway != nil && c.EastWestGateway.Address != "" {
			first[canonicalAddress(c.EastWestGateway.Address)] = fmt.Sprintf("spec.clusters[%d].eastWestGateway.address (this mesh's own gateway in %s)", i, c.Name)
		}
	}
	for i, p := range m.Spec.Peers {
		for j, s := range p.Imports {
			path := fmt.Sprintf("%s[%d].host", peerPath(i, "imports"), j)
			switch other, dup := first[s.Host]; {
			case local[s.Host]:
				report(path, "%q is a service of this mesh (spec.services); importing it from peer %q would merge the peer's gateways into its endpoints: import a host this mesh does not have", s.Host, p.MeshID)
			case dup:
				report(path, "%q is already imported in %s; a host comes from one peer, once", s.Host, other)
			default:
				first[s.Host] = fmt.Sprintf("%s[%d]", peerPath(i, "imports"), j)
			}
		}
	}
}

func checkUnknownExport(m *mesh.Mesh, report func(string, string, ...any)) {
	byHost := map[string]*mesh.SharedService{}
	var list []string
	for k := range m.Spec.Services {
		s := &m.Spec.Services[k]
		if _, ok := byHost[s.Host()]; !ok {
			byHost[s.Host()] = s
			list = append(list, s.Host())
		}
	}
	hosts := newNameSet(list)
	for i, p := range m.Spec.Peers {
		seen := map[string]bool{}
		for j, e := range p.Exports {
			path := fmt.Sprintf("%s[%d]", peerPath(i, "exports"), j)
			if seen[e.Host] {
				report(path+".host", "%q is already exported to peer %q; export each host once per peer", e.Host, p.MeshID)
				continue
			}
			seen[e.Host] = true
			if len(m.Spec.Services) == 0 {
				continue // without spec.services, meshc cannot know the mesh's hosts
			}
			s := byHost[e.Host]
			if s == nil {
				report(path+".host", "%q is not a service of this mesh (spec.services declares %s)", e.Host, hosts, diag.Suggested(hosts.Suggest(e.Host)))
				continue
			}
			if d := subsetDiff(s.Ports, e.Ports); d != "" {
				report(path+".ports", "%s is exported on other ports than spec.services gives it: %s", e.Host, d)
			}
		}
	}
}

// subsetDiff describes the ports of sub that have does not have as they are,
// or returns "": an export may leave some of a service's ports out.
func subsetDiff(have, sub []mesh.ServicePort) string {
	byPort := make(map[int]mesh.ServicePort, len(have))
	for i := len(have) - 1; i >= 0; i-- { // the first of a repeated port
		byPort[have[i].Port] = have[i]
	}
	var diffs []string
	for _, q := range sub {
		p, ok := byPort[q.Port]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("port %d is not one of its ports", q.Port))
		case p.Name != q.Name:
			diffs = append(diffs, fmt.Sprintf("port %d named %q, not %q", q.Port, q.Name, p.Name))
		case p.Protocol != q.Protocol:
			diffs = append(diffs, fmt.Sprintf("port %d is %s, not %s", q.Port, q.Protocol, p.Protocol))
		}
	}
	return diag.ListNames(diffs)
}

// checkExportsWithoutGateway reads where an export runs as MC049 reads a
// peer's file (servedNetworks) and which gateways a peer can dial as
// PeerEntry writes them (an east-west gateway with an address).
func checkExportsWithoutGateway(m *mesh.Mesh, report func(string, string, ...any)) {
	reach := mesh.AddressedNetworks(m)
	runs := servedNetworks(m)
	for i, p := range m.Spec.Peers {
		if len(p.Exports) == 0 {
			continue
		}
		if len(reach) == 0 {
			report(peerPath(i, "exports"), "this mesh exports services to peer %q but no cluster has an eastWestGateway with an address for the peer to reach them through (add eastWestGateway with its address to a cluster)", p.MeshID)
			continue
		}
		for j, e := range p.Exports {
			nets := runs[e.Host]
			if len(nets) == 0 || slices.ContainsFunc(nets, func(n string) bool { return slices.Contains(reach, n) }) {
				continue // unknown where it runs (MC045's business), or reachable
			}
			report(fmt.Sprintf("%s[%d].host", peerPath(i, "exports"), j), "%s runs only on %s, where no east-west gateway has an address (east-west gateways with one are on %s): a peer reaches it only through a gateway of a network where it runs, which forwards to that network's endpoints alone; give a cluster there an eastWestGateway with its address, or do not export it",
				e.Host, diag.Plural("network", nets), diag.ListNames(reach))
		}
	}
}

func checkForeignIdentity(m *mesh.Mesh, report func(string, string, ...any)) {
	for i, p := range m.Spec.Peers {
		prefix := "spiffe://" + p.TrustDomain + "/"
		for j, s := range p.Imports {
			for k, id := range s.Identities {
				if !strings.HasPrefix(id, prefix) {
					report(fmt.Sprintf("%s[%d].identities[%d]", peerPath(i, "imports"), j, k),
						"identity %q is not in peer %q's trust domain %q; the peer's workloads present %s... identities", id, p.MeshID, p.TrustDomain, prefix)
				}
			}
		}
	}
}

func checkInvalidTrustAnchor(m *mesh.Mesh, report func(string, string, ...any)) {
	for i, p := range m.Spec.Peers {
		if msg := mesh.TrustAnchorProblem(p.TrustAnchor.PEM); msg != "" {
			report(peerPath(i, "trustAnchor.pem"), "the trust anchor of peer %q %s", p.MeshID, msg)
		}
	}
}

// checkPeerGatewayAddresses is MC009 for the peers' gateways.
func checkPeerGatewayAddresses(m *mesh.Mesh, report func(string, string, ...any)) {
	for i, p := range m.Spec.Peers {
		for j, g := range p.Gateways {
			if msg := addressProblem(g.Address); msg != "" {
				report(fmt.Sprintf("%s[%d].address", peerPath(i, "gateways"), j), "%s", msg)
			}
		}
	}
}
