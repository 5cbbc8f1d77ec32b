package compiler

import (
	"bytes"
	"fmt"
	"slices"

	"meshc.dev/meshc/templates"
)

// peerEntryView is what federation-peer-entry.yaml.tmpl sees.
type peerEntryView struct {
	Mesh     *Mesh
	Network  string
	Gateways []string
	Anchor   TrustAnchor
}

// PeerEntry is m as another mesh lists it under spec.peers: its mesh ID,
// trust domain, east-west gateway addresses and root of trust (rootPEM,
// the root-cert.pem of meshc certs), for the peer's team to paste and add
// exports and imports to. The mesh must have passed Validate.
func PeerEntry(m *Mesh, rootPEM []byte) ([]byte, error) {
	if msg := trustAnchorProblem(string(rootPEM)); msg != "" {
		return nil, fmt.Errorf("the root certificate %s", msg)
	}
	v := &peerEntryView{Mesh: m, Network: m.Spec.MeshID + "-network", Anchor: TrustAnchor{PEM: string(rootPEM)}}
	for _, c := range m.Spec.Clusters {
		if g := c.EastWestGateway; g != nil && g.Address != "" && !slices.Contains(v.Gateways, g.Address) {
			v.Gateways = append(v.Gateways, g.Address)
		}
	}
	var buf bytes.Buffer
	if err := templates.Set.ExecuteTemplate(&buf, "federation-peer-entry.yaml.tmpl", v); err != nil {
		return nil, fmt.Errorf("rendering the peer entry: %w", err)
	}
	return buf.Bytes(), nil
}
