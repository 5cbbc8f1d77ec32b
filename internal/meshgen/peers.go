package meshgen

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// Peers returns the Mesh files of two meshes federated with each other,
// drawn from seed: the same seed gives the same pair. Each side has two or
// three networks, two to four clusters (multi-primary, or one primary and
// remotes), an east-west gateway with an address in every cluster, one to
// three services that run in a random non-empty set of clusters (so some
// run on only some networks), exports of some of them to the other side,
// which imports exactly those, from the gateways of the networks that run
// them (each network of the peer placed on a network of its own), and zero
// to two groups of VMs, on a network of the mesh with known addresses or on
// a network of VMs only, registering themselves. The pair is valid on its
// own and together (meshc vet a.yaml b.yaml).
func Peers(seed uint64) (a, b []byte) {
	r := rand.New(rand.NewPCG(seed, 0x6d657368632d7065))
	sa, sb := newSide(r, "a", "192.0.2"), newSide(r, "b", "198.51.100")
	sa.exports, sb.exports = sa.pickExports(r), sb.pickExports(r)
	return sa.write(sb, rootB), sb.write(sa, rootA)
}

// side is one mesh of a generated pair.
type side struct {
	id       string // a or b: names everything of the side
	topology Topology
	networks []string
	clusters []genCluster
	services []genService
	groups   []genGroup
	exports  []int // indices of services exported to the other side
	vmNet    bool  // a network of VMs only
}

type genCluster struct {
	name, network, address string
	primary                string // "" on a primary, else its control plane
}

type genService struct {
	name     string
	ports    []genPort
	clusters []string
}

type genPort struct {
	name, protocol string
	port           int
}

type genGroup struct {
	name, network, cluster string
	address                string // "" for a group whose VMs register themselves
}

// servicePorts are the ports a generated service draws from.
var servicePorts = []genPort{{"http", "HTTP", 8080}, {"grpc", "GRPC", 9090}, {"tcp", "TCP", 7000}}

func newSide(r *rand.Rand, id, addressPrefix string) *side {
	s := &side{id: id, topology: MultiPrimary}
	if r.IntN(2) == 0 {
		s.topology = PrimaryRemote
	}
	for n := range 2 + r.IntN(2) {
		s.networks = append(s.networks, fmt.Sprintf("%s-net%d", id, n))
	}
	n := len(s.networks) + r.IntN(5-len(s.networks))
	for i := range n {
		c := genCluster{
			name:    fmt.Sprintf("%s-cluster%d", id, i),
			network: s.networks[i%len(s.networks)],
			address: fmt.Sprintf("%s.%d", addressPrefix, 10+i),
		}
		if s.topology == PrimaryRemote && i > 0 {
			c.primary = s.clusters[0].name
		}
		s.clusters = append(s.clusters, c)
	}
	for k := range 1 + r.IntN(3) {
		svc := genService{name: fmt.Sprintf("%s-svc%d", id, k)}
		for _, p := range servicePorts {
			if r.IntN(2) == 0 || (p == servicePorts[len(servicePorts)-1] && len(svc.ports) == 0) {
				svc.ports = append(svc.ports, p)
			}
		}
		for _, c := range s.clusters {
			if r.IntN(2) == 0 {
				svc.clusters = append(svc.clusters, c.name)
			}
		}
		if len(svc.clusters) == 0 {
			svc.clusters = []string{s.clusters[r.IntN(len(s.clusters))].name}
		}
		s.services = append(s.services, svc)
	}
	for k := range r.IntN(3) {
		g := genGroup{name: fmt.Sprintf("%s-vm%d", id, k), cluster: s.primaries()[r.IntN(len(s.primaries()))]}
		if r.IntN(2) == 0 {
			g.network = s.networks[r.IntN(len(s.networks))]
			g.address = fmt.Sprintf("10.%d.%d.10", 200+len(id), k)
		} else {
			g.network = id + "-vm-net"
			s.vmNet = true
		}
		s.groups = append(s.groups, g)
	}
	return s
}

func (s *side) primaries() []string {
	var out []string
	for _, c := range s.clusters {
		if c.primary == "" {
			out = append(out, c.name)
		}
	}
	return out
}

// pickExports chooses a non-empty set of the side's services to export.
func (s *side) pickExports(r *rand.Rand) []int {
	var out []int
	for k := range s.services {
		if r.IntN(2) == 0 {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		out = []int{r.IntN(len(s.services))}
	}
	return out
}

func (s *side) meshID() string      { return "mesh-" + s.id }
func (s *side) trustDomain() string { return s.id + ".example.com" }
func (s *side) namespace() string   { return "ns-" + s.id }
func (s *side) host(k int) string {
	return s.services[k].name + "." + s.namespace() + ".svc.cluster.local"
}

// write returns the side's Mesh file, federated with peer, whose root CA is
// peerRoot.
func (s *side) write(peer *side, peerRoot string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Generated federation peer %s of a pair: %s on %d networks.\n", s.meshID(), s.topology, len(s.networks))
	fmt.Fprintf(&b, "apiVersion: meshc.dev/v1alpha1\nkind: Mesh\nmetadata:\n  name: peers-%s\nspec:\n", s.id)
	fmt.Fprintf(&b, "  meshID: %s\n  topology: %s\n  trustDomain: %s\n  istio:\n    version: \"1.28.0\"\n", s.meshID(), s.topology, s.trustDomain())
	b.WriteString("  networks:\n")
	for _, n := range s.networks {
		fmt.Fprintf(&b, "    - name: %s\n", n)
	}
	if s.vmNet {
		fmt.Fprintf(&b, "    - name: %s-vm-net\n", s.id)
	}
	b.WriteString("  clusters:\n")
	for _, c := range s.clusters {
		role := "primary"
		if c.primary != "" {
			role = "remote\n      controlPlane: " + c.primary
		}
		fmt.Fprintf(&b, "    - name: %s\n      network: %s\n      role: %s\n      eastWestGateway:\n        address: %s\n", c.name, c.network, role, c.address)
	}
	fmt.Fprintf(&b, "  namespaces:\n    - name: %s\n  services:\n", s.namespace())
	for _, svc := range s.services {
		fmt.Fprintf(&b, "    - name: %s\n      namespace: %s\n      ports:\n", svc.name, s.namespace())
		writePorts(&b, "        ", svc.ports)
		fmt.Fprintf(&b, "      clusters: [%s]\n", strings.Join(svc.clusters, ", "))
	}
	if len(s.groups) > 0 {
		b.WriteString("  workloadGroups:\n")
	}
	for _, g := range s.groups {
		fmt.Fprintf(&b, "    - name: %s\n      namespace: %s\n      network: %s\n      cluster: %s\n", g.name, s.namespace(), g.network, g.cluster)
		fmt.Fprintf(&b, "      ports:\n        - {name: http, port: 8080}\n      labels:\n        app: %s\n", g.name)
		if g.address != "" {
			fmt.Fprintf(&b, "      instances:\n        - {name: %s-1, address: %s}\n", g.name, g.address)
		}
	}
	// Each network of the peer gets a network of its own here, so istiod
	// sends a host only to the gateways of the networks that run it.
	fmt.Fprintf(&b, "  peers:\n    - meshID: %s\n      trustDomain: %s\n      network: %s\n      gateways:\n", peer.meshID(), peer.trustDomain(), peerNetwork(peer.networks[0]))
	for _, c := range peer.clusters {
		fmt.Fprintf(&b, "        - address: %s\n", c.address)
		if c.network != peer.networks[0] {
			fmt.Fprintf(&b, "          network: %s\n", peerNetwork(c.network))
		}
	}
	b.WriteString("      trustAnchor:\n        pem: |\n")
	for _, line := range strings.Split(strings.TrimSpace(peerRoot), "\n") {
		fmt.Fprintf(&b, "          %s\n", line)
	}
	b.WriteString("      exports:\n")
	for _, k := range s.exports {
		fmt.Fprintf(&b, "        - host: %s\n          ports:\n", s.host(k))
		writePorts(&b, "            ", s.services[k].ports)
	}
	b.WriteString("      imports:\n")
	for _, k := range peer.exports {
		fmt.Fprintf(&b, "        - host: %s\n", peer.host(k))
		if nets := peer.networksOf(k); len(nets) < len(peer.networks) {
			fmt.Fprintf(&b, "          networks: [%s]\n", strings.Join(nets, ", "))
		}
		b.WriteString("          ports:\n")
		writePorts(&b, "            ", peer.services[k].ports)
		fmt.Fprintf(&b, "          identities:\n            - spiffe://%s/ns/%s/sa/%s\n", peer.trustDomain(), peer.namespace(), peer.services[k].name)
	}
	return b.Bytes()
}

// peerNetwork is the network a mesh places a peer's network n on.
func peerNetwork(n string) string { return "peer-" + n }

// networksOf lists, as the other side names them, the networks of the side
// whose clusters run service k, in the side's order.
func (s *side) networksOf(k int) []string {
	var out []string
	for _, n := range s.networks {
		for _, c := range s.clusters {
			if c.network == n && slices.Contains(s.services[k].clusters, c.name) {
				out = append(out, peerNetwork(n))
				break
			}
		}
	}
	return out
}

func writePorts(b *bytes.Buffer, indent string, ports []genPort) {
	for _, p := range ports {
		fmt.Fprintf(b, "%s- {name: %s, port: %d, protocol: %s}\n", indent, p.name, p.port, p.protocol)
	}
}
