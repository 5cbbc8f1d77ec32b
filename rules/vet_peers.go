package rules

import (
	"fmt"
	"slices"
	"strings"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
)

// VetPeers cross-checks the Mesh files of federated meshes given together
// (meshc vet east.yaml west.yaml), each already valid on its own: what one
// imports the other exports on the same ports, mesh IDs and trust domains
// differ and agree with what each peer entry says, and the gateway addresses
// one mesh dials are the other's east-west gateways. Problems point into the
// file whose entry disagrees (rule MC049). Only a peer entry and the file of
// the mesh it names are compared: unrelated meshes vetted together (with
// the same mesh ID, even) are none of its business.
func VetPeers(meshes []*mesh.Mesh) diag.Problems {
	var ps diag.Problems
	report := func(m *mesh.Mesh, path, format string, args ...any) {
		ps = append(ps, diag.Problem{Pos: m.Pos(path), Path: path, Rule: PeerMismatchRule, Message: fmt.Sprintf(format, args...)})
	}
	byID := map[string][]*mesh.Mesh{}
	facts := map[*mesh.Mesh]*peerFacts{}
	for _, m := range meshes {
		byID[m.Spec.MeshID] = append(byID[m.Spec.MeshID], m)
		facts[m] = newPeerFacts(m)
	}
	for _, m := range meshes {
		for i := range m.Spec.Peers {
			p := &m.Spec.Peers[i]
			for _, o := range byID[p.MeshID] {
				if o != m {
					comparePeer(m, i, o, facts[o], func(path, format string, args ...any) { report(m, path, format, args...) })
				}
			}
		}
	}
	ps.Sort()
	return ps
}

// PeerMismatchRule is the ID of the rule VetPeers applies.
const PeerMismatchRule = "MC049"

// peerFacts is what comparePeer reads of a mesh named as a peer, derived
// once however many meshes name it.
type peerFacts struct {
	peerByMesh map[string]int // its first peer entry naming each mesh ID
}

func newPeerFacts(o *mesh.Mesh) *peerFacts {
	f := &peerFacts{peerByMesh: map[string]int{}}
	for j, p := range o.Spec.Peers {
		if _, ok := f.peerByMesh[p.MeshID]; !ok {
			f.peerByMesh[p.MeshID] = j
		}
	}
	return f
}

// comparePeer checks m's entry i for peer o against o's own Mesh file.
func comparePeer(m *mesh.Mesh, i int, o *mesh.Mesh, of *peerFacts, report func(path, format string, args ...any)) {
	p := &m.Spec.Peers[i]
	if p.TrustDomain != o.Spec.TrustDomain {
		report(peerPath(i, "trustDomain"), "peer %q has trust domain %q in %s, not %q", p.MeshID, o.Spec.TrustDomain, o.File, p.TrustDomain)
	}
	if o.Spec.TrustDomain == m.Spec.TrustDomain {
		report("spec.trustDomain", "trust domain %q is also the trust domain of peer %q (%s); federated meshes keep their own", m.Spec.TrustDomain, o.Spec.MeshID, o.File)
	}
	checkPeerGateways(m, i, o, report)
	back, ok := of.peerByMesh[m.Spec.MeshID]
	if !ok {
		if len(p.Imports) > 0 || len(p.Exports) > 0 {
			report(peerPath(i, ""), "peer %q does not name this mesh (%q) among its peers in %s: it neither trusts this mesh's root nor exports to it", p.MeshID, m.Spec.MeshID, o.File)
		}
		return
	}
	exported := map[string]mesh.PeerService{}
	for _, e := range o.Spec.Peers[back].Exports {
		exported[e.Host] = e
	}
	for j, s := range p.Imports {
		path := fmt.Sprintf("%s[%d]", peerPath(i, "imports"), j)
		e, ok := exported[s.Host]
		if !ok {
			report(path+".host", "peer %q does not export %q to this mesh in %s; its gateways will not pass it", p.MeshID, s.Host, o.File)
			continue
		}
		if d := subsetDiff(e.Ports, s.Ports); d != "" {
			report(path+".ports", "%q is exported by peer %q in %s on other ports: %s", s.Host, p.MeshID, o.File, d)
		}
	}
}

func listOrNone(xs []string) string {
	if len(xs) == 0 {
		return "none with an address"
	}
	return diag.ListNames(xs)
}

// checkPeerGateways checks the gateways m's entry i dials against peer o's
// file: each is an east-west gateway of o; gateways on one network of o share
// one network here and the others' are apart, since istiod sends every
// gateway of an endpoint's network in its place; and each import's endpoints
// are the gateways of exactly the networks where o runs the service, since
// a peer's east-west gateway forwards only to endpoints on its own network
// (ISTIO_META_REQUESTED_NETWORK_VIEW).
func checkPeerGateways(m *mesh.Mesh, i int, o *mesh.Mesh, report func(path, format string, args ...any)) {
	p := &m.Spec.Peers[i]
	theirNet := map[string]string{} // o's east-west gateway address → its network
	var theirs []string
	for _, c := range o.Spec.Clusters {
		if c.EastWestGateway != nil && c.EastWestGateway.Address != "" && theirNet[c.EastWestGateway.Address] == "" {
			theirNet[c.EastWestGateway.Address] = c.Network
			theirs = append(theirs, c.EastWestGateway.Address)
		}
	}
	// The gateway that first puts each local network on a network of o.
	firstOn := map[string]int{}
	for j, g := range p.Gateways {
		path := fmt.Sprintf("%s[%d]", peerPath(i, "gateways"), j)
		on, ok := theirNet[g.Address]
		if !ok {
			report(path+".address", "%s is not an east-west gateway address of peer %q in %s (its gateways: %s)", g.Address, p.MeshID, o.File, listOrNone(theirs))
			continue
		}
		local := p.NetworkOf(g)
		k, seen := firstOn[local]
		if !seen {
			firstOn[local] = j
			continue
		}
		if other := p.Gateways[k]; theirNet[other.Address] != on {
			report(path, "%s is on network %s of peer %q in %s, and %s on its network %s, yet this entry places both on network %q: istiod sends every gateway of a network in place of each of its endpoints, so a service the peer runs on one of the two networks is also sent to the other's gateway, which cannot forward it; give each network of the peer a network of its own here (gateways[].network)",
				g.Address, on, p.MeshID, o.File, other.Address, theirNet[other.Address], local)
		}
	}
	runs := servedNetworks(o)
	var needed []string
	for j, s := range p.Imports {
		path := fmt.Sprintf("%s[%d]", peerPath(i, "imports"), j)
		nets := runs[s.Host]
		known := len(nets) > 0
		reaches := func(addr string) bool { return !known || slices.Contains(nets, theirNet[addr]) }
		endpoints := p.ImportGateways(s)
		var wrong []string
		for _, g := range endpoints {
			if on, ok := theirNet[g.Address]; ok && !reaches(g.Address) {
				wrong = append(wrong, fmt.Sprintf("%s (network %s)", g.Address, on))
			}
		}
		if len(wrong) > 0 {
			report(path, "peer %q runs %s only on %s in %s, but its endpoints here include %s: a peer's east-west gateway forwards only to endpoints on its own network, so calls through %s fail; %s",
				p.MeshID, s.Host, diag.Plural("network", nets), o.File, diag.Plural("gateway", wrong), pronoun(len(wrong)), importFix(p, s, nets, theirNet))
		}
		var missing []string
		for _, a := range theirs {
			if !reaches(a) {
				continue
			}
			if !slices.Contains(needed, a) {
				needed = append(needed, a)
			}
			listed := slices.ContainsFunc(p.Gateways, func(g mesh.PeerGateway) bool { return g.Address == a })
			if listed && !slices.ContainsFunc(endpoints, func(g mesh.PeerGateway) bool { return g.Address == a }) {
				missing = append(missing, fmt.Sprintf("%s (network %s)", a, theirNet[a]))
			}
		}
		if len(missing) > 0 && len(wrong) == 0 {
			report(path+".networks", "peer %q also runs %s behind %s in %s, which this import leaves out; %s",
				p.MeshID, s.Host, diag.Plural("gateway", missing), o.File, importFix(p, s, nets, theirNet))
		}
	}
	var unlisted []string
	for _, a := range needed {
		if !slices.ContainsFunc(p.Gateways, func(g mesh.PeerGateway) bool { return g.Address == a }) {
			unlisted = append(unlisted, a)
		}
	}
	if len(p.Gateways) > 0 && len(unlisted) > 0 {
		report(peerPath(i, "gateways"), "peer %q also has east-west gateways at %s in %s, in front of what this mesh imports from it; list every one, so its gateways share the load and cover each other",
			p.MeshID, strings.Join(unlisted, ", "), o.File)
	}
}

// servedNetworks maps each host m declares (spec.services, and workload
// groups named like a service) to the networks it runs on, in input order.
// A host m does not declare is missing: where it runs is unknown.
func servedNetworks(m *mesh.Mesh) map[string][]string {
	out := map[string][]string{}
	add := func(host, network string) {
		if !slices.Contains(out[host], network) {
			out[host] = append(out[host], network)
		}
	}
	all := m.ClusterNames()
	for k := range m.Spec.Services {
		s := &m.Spec.Services[k]
		if _, ok := out[s.Host()]; !ok {
			out[s.Host()] = []string{}
		}
		for _, name := range mesh.ServiceClusters(s, m.SharedNamespace(s.Namespace), all) {
			if c := m.Cluster(name); c != nil {
				add(s.Host(), c.Network)
			}
		}
	}
	for _, g := range m.Spec.WorkloadGroups {
		add(g.Name+"."+g.Namespace+".svc."+mesh.ClusterDomain, g.Network)
	}
	return out
}

// importFix says how to make an import's endpoints the gateways of the
// networks nets of the peer: its networks, when the entry gives the peer's
// networks apart, or the gateways to list.
func importFix(p *mesh.Peer, s mesh.ImportedService, nets []string, theirNet map[string]string) string {
	var locals, addrs []string
	for _, g := range p.Gateways {
		if slices.Contains(nets, theirNet[g.Address]) {
			addrs = append(addrs, g.Address)
			if n := p.NetworkOf(g); !slices.Contains(locals, n) {
				locals = append(locals, n)
			}
		}
	}
	switch {
	case len(locals) == 0:
		return "no gateway listed here reaches it: list the peer's gateways of the networks where it runs it"
	case len(p.Networks()) == len(locals):
		return fmt.Sprintf("list only the gateways at %s, or give the peer's networks networks of their own here (gateways[].network) and set the import's networks", strings.Join(addrs, ", "))
	}
	return fmt.Sprintf("set its networks to %s", strings.Join(locals, ", "))
}

func pronoun(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}
