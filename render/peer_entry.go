package render

import (
	"bytes"
	"fmt"
	"slices"

	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/templates"
)

// peerEntryView is what federation-peer-entry.yaml.tmpl sees.
type peerEntryView struct {
	Mesh     *mesh.Mesh
	Network  string
	Gateways []mesh.PeerGateway
	Anchor   mesh.TrustAnchor
	// Unreached are the networks of the mesh's workloads that no gateway
	// in the entry leads to.
	Unreached []string
}

// UnreachedNetworks lists, in input order, the networks m's workloads
// (clusters, workload groups) run on that have no east-west gateway with an
// address: a peer entry cannot lead there, since a gateway forwards only to
// its own network's endpoints. meshc certs --export names them.
func UnreachedNetworks(m *mesh.Mesh) []string {
	reach := mesh.AddressedNetworks(m)
	var out []string
	add := func(n string) {
		if !slices.Contains(reach, n) && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	for _, c := range m.Spec.Clusters {
		add(c.Network)
	}
	for _, g := range m.Spec.WorkloadGroups {
		add(g.Network)
	}
	return out
}

// SpansNetworks reports whether the mesh's gateways sit on several networks.
func (v *peerEntryView) SpansNetworks() bool {
	return slices.ContainsFunc(v.Gateways, func(g mesh.PeerGateway) bool { return g.Network != "" })
}

// PeerEntry is m as another mesh lists it under spec.peers: its mesh ID,
// trust domain, east-west gateway addresses and root of trust (rootPEM,
// the root-cert.pem of meshc certs), for the peer's team to paste and add
// exports and imports to. When the gateways sit on several networks, each
// network gets a name of its own in the entry (<meshID>-<network>; the
// first is the peer's network), since a gateway forwards only to its own
// network's endpoints; a network without such a gateway is named in a
// comment, never left out silently. The mesh must have passed Validate.
func PeerEntry(m *mesh.Mesh, rootPEM []byte) ([]byte, error) {
	if msg := mesh.TrustAnchorProblem(string(rootPEM)); msg != "" {
		return nil, fmt.Errorf("the root certificate %s", msg)
	}
	v := &peerEntryView{Mesh: m, Anchor: mesh.TrustAnchor{PEM: string(rootPEM)}, Unreached: UnreachedNetworks(m)}
	var networks []string
	for _, c := range m.Spec.Clusters {
		g := c.EastWestGateway
		if g == nil || g.Address == "" || slices.ContainsFunc(v.Gateways, func(pg mesh.PeerGateway) bool { return pg.Address == g.Address }) {
			continue
		}
		if !slices.Contains(networks, c.Network) {
			networks = append(networks, c.Network)
		}
		v.Gateways = append(v.Gateways, mesh.PeerGateway{Address: g.Address, Network: c.Network})
	}
	switch len(networks) {
	case 0, 1:
		v.Network = m.Spec.MeshID + "-network"
		for i := range v.Gateways {
			v.Gateways[i].Network = ""
		}
	default:
		v.Network = m.Spec.MeshID + "-" + networks[0]
		for i, g := range v.Gateways {
			if g.Network == networks[0] {
				v.Gateways[i].Network = ""
			} else {
				v.Gateways[i].Network = m.Spec.MeshID + "-" + g.Network
			}
		}
	}
	var buf bytes.Buffer
	if err := templates.Set.ExecuteTemplate(&buf, "federation-peer-entry.yaml.tmpl", v); err != nil {
		return nil, fmt.Errorf("rendering the peer entry: %w", err)
	}
	return buf.Bytes(), nil
}
