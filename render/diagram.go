package render

import (
	"fmt"

	"meshc.dev/meshc/diagram"
	"meshc.dev/meshc/mesh"
)

// Diagram is the mesh as the picture meshc draws: networks, clusters and
// their roles, east-west gateways with their addresses, which primary serves
// which remote, the rule that every primary reads every other cluster's API
// server, and the one root of trust. It is simplified with
// diagram.DefaultLimits, so it stays readable at any size and costs time
// linear in the number of clusters. The mesh must have passed Validate.
func Diagram(m *mesh.Mesh) *diagram.Graph {
	primaries := 0
	for i := range m.Spec.Clusters {
		if m.Spec.Clusters[i].IsPrimary() {
			primaries++
		}
	}
	roles := count(primaries, "primary")
	if r := len(m.Spec.Clusters) - primaries; r > 0 {
		roles += ", " + count(r, "remote")
	}
	g := &diagram.Graph{
		Title: m.Metadata.Name,
		Subtitle: fmt.Sprintf("meshID %s · %s · Istio %s · %s on %s: %s",
			m.Spec.MeshID, m.Spec.Topology, m.Spec.Istio.Version,
			count(len(m.Spec.Clusters), "cluster"), count(len(m.Spec.Networks), "network"), roles),
		Root:  "shared root CA · trust domain " + m.Spec.TrustDomain,
		Nodes: make([]diagram.Node, 0, len(m.Spec.Clusters)),
	}
	for _, n := range m.Spec.Networks {
		g.Networks = append(g.Networks, diagram.Network{ID: n.Name})
	}
	for i := range m.Spec.Clusters {
		c := &m.Spec.Clusters[i]
		n := diagram.Node{ID: c.Name, Network: c.Network, Label: c.Name, Kind: diagram.Remote}
		if c.IsPrimary() {
			n.Kind = diagram.Primary
			n.Details = append(n.Details, "primary: runs istiod")
			if m.Ambient() {
				n.Details = append(n.Details, "ambient: ztunnel, istio-cni")
			}
			g.ReadAll = append(g.ReadAll, c.Name)
			if len(m.Remotes(c.Name)) > 0 {
				if addr := c.IstiodAddress(); addr != "" {
					n.Details = append(n.Details, "remotes reach istiod at "+addr)
				} else {
					n.Details = append(n.Details, "remotes reach istiod at its gateway")
				}
			}
			n.Details = append(n.Details, vmDetails(m, c)...)
		} else {
			n.Details = append(n.Details, "remote of "+c.ControlPlane)
			label := "istiod, address learned after install"
			if p := m.Cluster(c.ControlPlane); p != nil && p.IstiodAddress() != "" {
				label = "istiod at " + p.IstiodAddress()
			}
			g.Edges = append(g.Edges, diagram.Edge{From: c.ControlPlane, To: c.Name, Kind: diagram.Serves, Label: label})
		}
		if c.Context != c.Name {
			n.Details = append(n.Details, "context "+c.Context)
		}
		if c.APIServer != "" {
			n.Details = append(n.Details, "API server "+c.APIServer)
		}
		if gw := c.EastWestGateway; gw != nil {
			n.Gateway = "east-west gateway"
			if m.Ambient() {
				n.Gateway = "ambient east-west gateway (HBONE 15008)"
			}
			switch {
			case gw.Address != "":
				n.Gateway += " " + gw.Address
			case gw.LearnAddress:
				n.Gateway += " (address learned)"
			}
		}
		g.Nodes = append(g.Nodes, n)
	}
	switch {
	case m.AmbientMultiNetwork():
		g.Notes = append(g.Notes, "Traffic between networks enters through the ambient east-west gateways (port 15008, HBONE in HBONE); only services labelled istio.io/global cross clusters.")
	case m.MultiNetwork():
		g.Notes = append(g.Notes, "Traffic between networks enters through the east-west gateways (port 15443, mTLS passthrough).")
	}
	g.Notes = append(g.Notes, federationNotes(m)...)
	return g.Simplify(diagram.DefaultLimits)
}

// count is "1 cluster", "3 clusters", "2 primaries".
func count(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if word == "primary" {
		return fmt.Sprintf("%d primaries", n)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
