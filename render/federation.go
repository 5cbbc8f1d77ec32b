package render

import (
	"fmt"
	"strings"

	"meshc.dev/meshc/mesh"
)

// federationNotes state the mesh's peers under its picture: who each is and
// what crosses, one sentence per peer.
func federationNotes(m *mesh.Mesh) []string {
	var notes []string
	for _, p := range m.Spec.Peers {
		n := fmt.Sprintf("Federated with mesh %s (trust domain %s, its root trusted too)", p.MeshID, p.TrustDomain)
		var parts []string
		if len(p.Exports) > 0 {
			hosts := make([]string, len(p.Exports))
			for i, e := range p.Exports {
				hosts[i] = e.Host
			}
			parts = append(parts, "exports "+strings.Join(hosts, ", ")+" to it through the east-west gateways")
		}
		if len(p.Imports) > 0 {
			parts = append(parts, "imports "+mesh.ImportNotes(&p))
		}
		if len(parts) > 0 {
			n += ": " + strings.Join(parts, "; ")
		}
		notes = append(notes, n+".")
	}
	return notes
}
