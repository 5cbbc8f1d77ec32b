package compiler

import "fmt"

// VetPeers cross-checks the Mesh files of federated meshes given together
// (meshc vet east.yaml west.yaml), each already valid on its own: what one
// imports the other exports on the same ports, mesh IDs and trust domains
// differ and agree with what each peer entry says, and the gateway addresses
// one mesh dials are the other's east-west gateways. Problems point into the
// file whose entry disagrees (rule MC049). Only a peer entry and the file of
// the mesh it names are compared: unrelated meshes vetted together (with
// the same mesh ID, even) are none of its business.
func VetPeers(meshes []*Mesh) Problems {
	var ps Problems
	report := func(m *Mesh, path, format string, args ...any) {
		ps = append(ps, Problem{Pos: m.Pos(path), Path: path, Rule: PeerMismatchRule, Message: fmt.Sprintf(format, args...)})
	}
	byID := map[string][]*Mesh{}
	facts := map[*Mesh]*peerFacts{}
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
	gateways   []string        // its east-west gateway addresses, each once
	isGateway  map[string]bool // the same, as a set
	peerByMesh map[string]int  // its first peer entry naming each mesh ID
}

func newPeerFacts(o *Mesh) *peerFacts {
	f := &peerFacts{isGateway: map[string]bool{}, peerByMesh: map[string]int{}}
	for _, c := range o.Spec.Clusters {
		if a := c.EastWestGateway; a != nil && a.Address != "" && !f.isGateway[a.Address] {
			f.isGateway[a.Address] = true
			f.gateways = append(f.gateways, a.Address)
		}
	}
	for j, p := range o.Spec.Peers {
		if _, ok := f.peerByMesh[p.MeshID]; !ok {
			f.peerByMesh[p.MeshID] = j
		}
	}
	return f
}

// comparePeer checks m's entry i for peer o against o's own Mesh file.
func comparePeer(m *Mesh, i int, o *Mesh, of *peerFacts, report func(path, format string, args ...any)) {
	p := &m.Spec.Peers[i]
	if p.TrustDomain != o.Spec.TrustDomain {
		report(peerPath(i, "trustDomain"), "peer %q has trust domain %q in %s, not %q", p.MeshID, o.Spec.TrustDomain, o.File, p.TrustDomain)
	}
	if o.Spec.TrustDomain == m.Spec.TrustDomain {
		report("spec.trustDomain", "trust domain %q is also the trust domain of peer %q (%s); federated meshes keep their own", m.Spec.TrustDomain, o.Spec.MeshID, o.File)
	}
	ours := map[string]bool{}
	for j, g := range p.Gateways {
		ours[g.Address] = true
		if !of.isGateway[g.Address] {
			report(fmt.Sprintf("%s[%d].address", peerPath(i, "gateways"), j), "%s is not an east-west gateway address of peer %q in %s (its gateways: %s)", g.Address, p.MeshID, o.File, listOrNone(of.gateways))
		}
	}
	if len(p.Gateways) > 0 {
		var missing []string
		for _, a := range of.gateways {
			if !ours[a] {
				missing = append(missing, a)
			}
		}
		if len(missing) > 0 {
			report(peerPath(i, "gateways"), "peer %q also has east-west gateways at %s in %s; list every one, so its gateways share the load and cover each other", p.MeshID, listNames(missing), o.File)
		}
	}
	back, ok := of.peerByMesh[m.Spec.MeshID]
	if !ok {
		if len(p.Imports) > 0 || len(p.Exports) > 0 {
			report(peerPath(i, ""), "peer %q does not name this mesh (%q) among its peers in %s: it neither trusts this mesh's root nor exports to it", p.MeshID, m.Spec.MeshID, o.File)
		}
		return
	}
	exported := map[string]PeerService{}
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
	return listNames(xs)
}
