package mesh

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"slices"
	"strings"

	"meshc.dev/meshc/diag"
)

// Peer is another mesh this one federates with: its identity, where its
// gateways are, its root of trust, and the services that cross between the
// two meshes, seen from this mesh.
type Peer struct {
	MeshID      string        `json:"meshID"`
	TrustDomain string        `json:"trustDomain"`
	Network     string        `json:"network"`
	Gateways    []PeerGateway `json:"gateways,omitempty"`
	TrustAnchor TrustAnchor   `json:"trustAnchor"`
	// Exports are this mesh's services the peer may call.
	Exports []PeerService `json:"exports,omitempty"`
	// Imports are the peer's services this mesh calls.
	Imports []ImportedService `json:"imports,omitempty"`
}

// PeerGateway is one east-west gateway address of a peer, and the network
// this mesh places the endpoints behind it on ("" for the peer's network).
type PeerGateway struct {
	Address string `json:"address"`
	Network string `json:"network,omitempty"`
}

// TrustAnchor is a peer's root CA certificates, PEM-encoded.
type TrustAnchor struct {
	PEM string `json:"pem"`
}

// PeerService is a service that crosses between meshes, by its host in the
// mesh that runs it.
type PeerService struct {
	Host  string        `json:"host"`
	Ports []ServicePort `json:"ports"`
}

// ImportedService is a peer's service this mesh calls, with the identities
// its workloads must present.
type ImportedService struct {
	Host       string        `json:"host"`
	Ports      []ServicePort `json:"ports"`
	Identities []string      `json:"identities"`
	// Networks are the networks of the peer's gateways behind which the
	// peer runs the service; nil for all of them.
	Networks []string `json:"networks,omitempty"`
}

// federation is what the mesh's peers mean for rendering, derived once with
// the rest of the topology.
type federation struct {
	// exportedHosts are the hosts the mesh exports to any peer, in input
	// order, without repeats.
	exportedHosts []string
	// importers are the peers this mesh imports services from.
	importers []*Peer
}

func newFederation(m *Mesh) *federation {
	f := &federation{}
	seen := map[string]bool{}
	for i := range m.Spec.Peers {
		p := &m.Spec.Peers[i]
		for _, e := range p.Exports {
			if !seen[e.Host] {
				seen[e.Host] = true
				f.exportedHosts = append(f.exportedHosts, e.Host)
			}
		}
		if len(p.Imports) > 0 {
			f.importers = append(f.importers, p)
		}
	}
	return f
}

// ExportedHosts are the hosts the mesh exports to its peers, in input order:
// what its east-west gateways pass to them.
func (m *Mesh) ExportedHosts() []string { return m.topo().federation.exportedHosts }

// ImportingPeers are the peers the mesh imports services from, in input
// order.
func (m *Mesh) ImportingPeers() []*Peer { return m.topo().federation.importers }

// Federated reports whether the mesh has peers: its control planes then
// trust their roots and accept their trust domains.
func (m *Mesh) Federated() bool { return len(m.Spec.Peers) > 0 }

// ServesFederationGateway reports whether the primary's istiod configures the
// federation Gateway: like the cross-network Gateway, it is read by the
// istiod of the cluster it lives in and drives its remotes' gateways too.
// Where the primary has the cross-network Gateway, that one server passes
// the exports (PassthroughHosts): two AUTO_PASSTHROUGH servers on 15443
// whose hosts overlap give the gateway two filter chains with one SNI
// match, and Envoy rejects the whole listener, cross-network traffic and
// federation alike (pilot/pkg/networking/core/gateway.go drops only
// identical hosts).
func (p *Placement) ServesFederationGateway() bool {
	return p.IsPrimary() && len(p.Mesh.ExportedHosts()) > 0 && !p.ServesCrossNetwork()
}

// crossNetworkHosts is what the cross-network Gateway passes: every host
// of the mesh's own services (the Istio guides' *.local).
const crossNetworkHosts = "*.local"

// PassthroughHosts are the hosts of the one AUTO_PASSTHROUGH server on port
// 15443 of the east-west gateways the primary's istiod configures: on a
// primary with the cross-network Gateway, *.local and any export it does not
// cover; otherwise the exports. Every host is listed once, and none is
// covered by another, so no two filter chains share a match.
func (p *Placement) PassthroughHosts() []string {
	if !p.ServesCrossNetwork() {
		return p.Mesh.ExportedHosts()
	}
	hosts := []string{crossNetworkHosts}
	for _, h := range p.Mesh.ExportedHosts() {
		if !strings.HasSuffix(h, crossNetworkHosts[1:]) {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// ImportsFromPeers reports whether the primary's istiod needs the peers'
// network gateways and service entries.
func (p *Placement) ImportsFromPeers() bool { return p.IsPrimary() && len(p.Mesh.ImportingPeers()) > 0 }

// ServiceEntryName names the ServiceEntry of an imported host: the peer's
// mesh ID and the host, so two peers' entries never clash. A name past the
// 253 characters Kubernetes allows keeps its start and ends in a hash of
// the whole.
func (p *Peer) ServiceEntryName(host string) string {
	name := p.MeshID + "." + host
	if len(name) <= 253 {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return strings.TrimRight(name[:236], ".-") + "-" + hex.EncodeToString(sum[:8])
}

// NetworkOf is the network this mesh places the endpoints behind the
// peer's gateway g on: its own, or the peer's.
func (p *Peer) NetworkOf(g PeerGateway) string { return cmp.Or(g.Network, p.Network) }

// PeerNetwork is a network this mesh places a peer's endpoints on, with the
// peer's gateways that lead to it: one network of the peer.
type PeerNetwork struct {
	Name     string
	Gateways []PeerGateway
}

// Networks groups the peer's gateways by the network this mesh places them
// on, in input order. istiod sends a sidecar every gateway of an endpoint's
// network in its place, so each network of the peer must be one here: a
// gateway forwards only to endpoints on its own network.
func (p *Peer) Networks() []PeerNetwork {
	var out []PeerNetwork
	for _, g := range p.Gateways {
		n := p.NetworkOf(g)
		i := slices.IndexFunc(out, func(pn PeerNetwork) bool { return pn.Name == n })
		if i < 0 {
			out = append(out, PeerNetwork{Name: n})
			i = len(out) - 1
		}
		out[i].Gateways = append(out[i].Gateways, g)
	}
	return out
}

// RemoteGatewayName names the istio-remote Gateway of the peer's network:
// peer-<meshID> for the peer's own network, peer-<meshID>.<network> for the
// networks of its gateways that name one (both are DNS labels, so the dot
// keeps every name apart).
func (p *Peer) RemoteGatewayName(network string) string {
	if network == p.Network {
		return "peer-" + p.MeshID
	}
	return "peer-" + p.MeshID + "." + network
}

// ImportGateways are the gateways an imported service's endpoints are:
// those on the networks where the peer runs it.
func (p *Peer) ImportGateways(s ImportedService) []PeerGateway {
	if s.Networks == nil {
		return p.Gateways
	}
	var out []PeerGateway
	for _, g := range p.Gateways {
		if slices.Contains(s.Networks, p.NetworkOf(g)) {
			out = append(out, g)
		}
	}
	return out
}

// GatewaysAreIPs reports whether every gateway of the peer is an IP address:
// its service entries then resolve STATIC, otherwise DNS.
func (p *Peer) GatewaysAreIPs() bool {
	for _, g := range p.Gateways {
		if _, err := netip.ParseAddr(g.Address); err != nil {
			return false
		}
	}
	return true
}

// ImportNotes says which of the peer's networks each import comes from:
// imports from the same networks together, in input order.
func ImportNotes(p *Peer) string {
	var order []string
	hosts := map[string][]string{}
	for _, im := range p.Imports {
		var nets []string
		for _, g := range p.ImportGateways(im) {
			if n := p.NetworkOf(g); !slices.Contains(nets, n) {
				nets = append(nets, n)
			}
		}
		key := diag.Plural("network", nets)
		if _, ok := hosts[key]; !ok {
			order = append(order, key)
		}
		hosts[key] = append(hosts[key], im.Host)
	}
	parts := make([]string, len(order))
	for i, key := range order {
		parts[i] = strings.Join(hosts[key], ", ") + " from its gateways on " + key
	}
	return strings.Join(parts, ", and ")
}

// LabelsNetwork reports whether istio-system carries the cluster's network
// label, which gives istiod the network of the cluster's workloads: in a
// multi-network mesh, and in a federated one, whose peers sit on networks of
// their own. Without it, a one-network mesh's workloads would have no
// network, which istiod reads as "on every network".
func (p *Placement) LabelsNetwork() bool { return p.MultiNetwork || p.Mesh.Federated() }

// ImportHosts are the hosts of the imported services, in order.
func ImportHosts(ims []ImportedService) []string {
	hosts := make([]string, len(ims))
	for i, s := range ims {
		hosts[i] = s.Host
	}
	return hosts
}
