package meshgen

import (
	"bytes"
	"fmt"
)

// Topology names a mesh layout the generator can build.
type Topology string

// The layouts benchmarked: the Istio multicluster guides' multi-network
// setups scaled up, with an east-west gateway in every cluster.
const (
	// MultiPrimary puts every cluster on one of min(N, 10) networks, each
	// running its own istiod. P primaries need P×(N−1) remote secrets, so
	// this is the shape whose plan grows quadratically.
	MultiPrimary Topology = "multi-primary"
	// PrimaryRemote has P = clamp(N/10, 1, 10) primaries, each on its own
	// network with a reachable east-west gateway address, and every other
	// cluster a remote on its primary's network, spread evenly. 1000 clusters
	// are 10 primaries each serving 99 remotes.
	PrimaryRemote Topology = "primary-remote"
)

// Topologies lists every layout, in the order reports show them.
var Topologies = []Topology{PrimaryRemote, MultiPrimary}

// Shape is one synthetic mesh: a layout and a number of clusters.
type Shape struct {
	Topology Topology
	Clusters int
	// Services, when positive, adds shared namespaces and that many shared
	// services (see Generate).
	Services int
	// VMGroups, when positive, adds that many workload groups of virtual
	// machines (see writeVMGroups).
	VMGroups int
	// Federated gives the mesh what a mesh with peers needs: a trust domain
	// of its own (MC040) and an address on every primary's east-west
	// gateway (MC046), for callers that add spec.peers.
	Federated bool
}

func (s Shape) String() string {
	name := fmt.Sprintf("%s/N=%d", s.Topology, s.Clusters)
	if s.Services > 0 {
		name += fmt.Sprintf("/S=%d", s.Services)
	}
	if s.VMGroups > 0 {
		name += fmt.Sprintf("/VM=%d", s.VMGroups)
	}
	if s.Federated {
		name += "/federated"
	}
	return name
}

// Namespaces is how many shared namespaces hold the services.
func (s Shape) Namespaces() int {
	if s.Services == 0 {
		return 0
	}
	return min(s.Services, 10)
}

// Networks is how many networks the mesh spreads its clusters over.
func (s Shape) Networks() int {
	if s.Topology == PrimaryRemote {
		return s.Primaries()
	}
	return min(s.Clusters, 10)
}

// Primaries is how many clusters run istiod.
func (s Shape) Primaries() int {
	if s.Topology == MultiPrimary {
		return s.Clusters
	}
	return max(1, min(10, s.Clusters/10))
}

// RemoteSecrets is how many `istioctl create-remote-secret` pairs the
// mesh's plan holds: every primary reads every other cluster.
func (s Shape) RemoteSecrets() int { return s.Primaries() * (s.Clusters - 1) }

// ClusterName is the name of the i-th cluster (0-based).
func ClusterName(i int) string { return fmt.Sprintf("cluster-%04d", i) }

// NetworkName is the name of the i-th network (0-based).
func NetworkName(i int) string { return fmt.Sprintf("network-%02d", i) }

// Generate returns the Mesh document for s. It panics on a shape with no
// clusters or an unknown topology: shapes are chosen by benchmark code, never
// by users.
func Generate(s Shape) []byte {
	if s.Clusters < 1 {
		panic(fmt.Sprintf("meshgen: %d clusters", s.Clusters))
	}
	if s.Topology != MultiPrimary && s.Topology != PrimaryRemote {
		panic(fmt.Sprintf("meshgen: unknown topology %q", s.Topology))
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Synthetic %s mesh: %d clusters on %d networks, %d primaries.\n",
		s.Topology, s.Clusters, s.Networks(), s.Primaries())
	fmt.Fprintf(&b, "apiVersion: meshc.dev/v1alpha1\nkind: Mesh\nmetadata:\n  name: bench-%s-%d\n", s.Topology, s.Clusters)
	fmt.Fprintf(&b, "spec:\n  meshID: mesh1\n  topology: %s\n", s.Topology)
	if s.Federated {
		b.WriteString("  trustDomain: mesh1.example.com\n")
	}
	b.WriteString("  istio:\n    version: \"1.28.0\"\n  networks:\n")
	for n := range s.Networks() {
		fmt.Fprintf(&b, "    - name: %s\n", NetworkName(n))
	}
	if s.VMGroups > 0 {
		b.WriteString("    - name: " + VMNetwork + "\n")
	}
	b.WriteString("  clusters:\n")
	if s.Topology == MultiPrimary {
		for i := range s.Clusters {
			gw := "{}"
			if i < s.vmPrimaries() || s.Federated {
				gw = "\n        address: " + primaryAddress(i) // VMs' hosts files need it
			}
			fmt.Fprintf(&b, "    - name: %s\n      network: %s\n      role: primary\n      eastWestGateway: %s\n",
				ClusterName(i), NetworkName(i%s.Networks()), gw)
		}
		writeServices(&b, s)
		writeVMGroups(&b, s)
		return b.Bytes()
	}
	// Primaries first, then the remotes dealt out to them round-robin, so
	// every primary serves (N−P)/P remotes (±1).
	p := s.Primaries()
	for i := range p {
		fmt.Fprintf(&b, "    - name: %s\n      network: %s\n      role: primary\n      eastWestGateway:\n        address: %s\n",
			ClusterName(i), NetworkName(i), primaryAddress(i))
	}
	for i := p; i < s.Clusters; i++ {
		fmt.Fprintf(&b, "    - name: %s\n      network: %s\n      role: remote\n      controlPlane: %s\n      eastWestGateway: {}\n",
			ClusterName(i), NetworkName(i%p), ClusterName(i%p))
	}
	writeServices(&b, s)
	writeVMGroups(&b, s)
	return b.Bytes()
}

// writeServices adds s.Namespaces() shared namespaces (in every cluster) and
// s.Services services dealt out to them. Service k runs in every third
// cluster from k mod 3, so the other two thirds consume it through a stub
// (the most output per service); every tenth service is cluster-local and
// runs everywhere.
func writeServices(b *bytes.Buffer, s Shape) {
	if s.Services == 0 {
		return
	}
	b.WriteString("  namespaces:\n")
	for n := range s.Namespaces() {
		fmt.Fprintf(b, "    - name: app-%02d\n", n)
	}
	b.WriteString("  services:\n")
	for k := range s.Services {
		fmt.Fprintf(b, "    - name: svc-%04d\n      namespace: app-%02d\n      ports:\n        - {name: http, port: 8080, protocol: HTTP}\n        - {name: grpc, port: 9090, protocol: GRPC}\n",
			k, k%s.Namespaces())
		if k%10 == 9 {
			b.WriteString("      clusterLocal: true\n")
			continue
		}
		b.WriteString("      clusters:\n")
		for i := k % 3; i < s.Clusters; i += 3 {
			fmt.Fprintf(b, "        - %s\n", ClusterName(i))
		}
	}
}

// VMNetwork is the network of VMs only that half of the VM groups sit on.
const VMNetwork = "vm-network"

// vmPrimaries is how many primaries the VM groups register with: the first
// ten at most.
func (s Shape) vmPrimaries() int {
	if s.VMGroups == 0 {
		return 0
	}
	return min(s.Primaries(), 10)
}

// writeVMGroups adds s.VMGroups workload groups dealt out to the first
// primaries round-robin, in the shared namespaces when there are any. Even
// groups sit on VMNetwork and auto-register; odd ones sit on their
// primary's network with three static instances each.
func writeVMGroups(b *bytes.Buffer, s Shape) {
	if s.VMGroups == 0 {
		return
	}
	b.WriteString("  workloadGroups:\n")
	for k := range s.VMGroups {
		p := k % s.vmPrimaries()
		ns, network := "vm-apps", VMNetwork
		if s.Services > 0 {
			ns = fmt.Sprintf("app-%02d", k%s.Namespaces())
		}
		if k%2 == 1 {
			network = NetworkName(p % s.Networks())
		}
		fmt.Fprintf(b, "    - name: vm-%04d\n      namespace: %s\n      network: %s\n      cluster: %s\n      ports:\n        - {name: http, port: 8080}\n        - {name: grpc, port: 9090}\n      labels:\n        app: vm-%04d\n      probe:\n        httpGet: {path: /ready, port: 8080}\n",
			k, ns, network, ClusterName(p), k)
		if k%2 == 1 {
			b.WriteString("      instances:\n")
			for j := range 3 {
				fmt.Fprintf(b, "        - {name: vm-%04d-%d, address: 10.%d.%d.%d}\n", k, j, k/250, k%250, 10+j)
			}
		}
	}
}

// primaryAddress is an address from the documentation ranges (RFC 5737),
// so a generated mesh never names a real host.
func primaryAddress(i int) string { return fmt.Sprintf("198.51.100.%d", 10+i) }
