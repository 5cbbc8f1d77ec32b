package mesh

import "slices"

// AddressedNetworks lists, in input order, the networks with an east-west
// gateway a peer can dial: one whose address the Mesh gives. A peer reaches
// only what runs on them, since a gateway forwards only to its own
// network's endpoints (ISTIO_META_REQUESTED_NETWORK_VIEW).
func AddressedNetworks(m *Mesh) []string {
	var out []string
	for _, c := range m.Spec.Clusters {
		if c.EastWestGateway != nil && c.EastWestGateway.Address != "" && !slices.Contains(out, c.Network) {
			out = append(out, c.Network)
		}
	}
	return out
}
