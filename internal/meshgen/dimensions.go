package meshgen

import (
	"bytes"
	_ "embed"
	"fmt"
	"strings"
)

// Dimension is one way a Mesh grows: a benchmark builds it at each of its
// sizes, the rest of the mesh fixed, so that a cost growing faster than
// the input (a loop over clusters inside a loop over services) shows as
// time growing faster than the bytes.
type Dimension struct {
	Name string
	// Sizes are the sizes measured, smallest first; the largest is four
	// times the smallest.
	Sizes []int
	// Generate returns the Mesh at size n. The same n gives the same bytes.
	Generate func(n int) []byte
}

// dimSizes are the sizes of most dimensions: up to MaxItems (5,000), the
// longest list meshc reads.
var dimSizes = []int{1250, 5000}

// Dimensions are the input dimensions besides the clusters of the
// topologies (Generate), each grown alone. Their meshes are valid.
var Dimensions = []Dimension{
	{"Clusters", dimSizes, func(n int) []byte {
		// At 1,000 services that run in every cluster: the mesh's facts
		// are clusters × services, its input is not.
		b := base(n)
		services(b, 1000, 1)
		return b.Bytes()
	}},
	{"Services", dimSizes, func(n int) []byte {
		// Services that run in every cluster of their namespace (500),
		// the shape issue #22 found quadratic.
		b := base(500)
		services(b, n, 10)
		return b.Bytes()
	}},
	{"ServiceClusters", dimSizes, func(n int) []byte {
		// One service run by n clusters and consumed by n, twice declared
		// (a cluster-local and a global service), in a mesh of 5,000.
		b := base(5000)
		b.WriteString("  namespaces:\n    - name: app\n  services:\n")
		for _, local := range []bool{false, true} {
			fmt.Fprintf(b, "    - name: svc-%t\n      namespace: app\n      clusterLocal: %t\n      ports: [{name: http, port: 8080}]\n", local, local)
			for _, field := range []string{"clusters", "consumers"} {
				fmt.Fprintf(b, "      %s:\n", field)
				for i := range n {
					fmt.Fprintf(b, "        - %s\n", ClusterName(5000-n+i))
				}
			}
		}
		return b.Bytes()
	}},
	{"ServicePorts", dimSizes, func(n int) []byte {
		// One service declared for two clusters, with n ports each.
		b := base(500)
		b.WriteString("  namespaces:\n    - name: app\n  services:\n")
		for c := range 2 {
			fmt.Fprintf(b, "    - name: svc\n      namespace: app\n      clusters: [%s]\n      ports:\n", ClusterName(c))
			for p := range n {
				fmt.Fprintf(b, "        - {name: p%d, port: %d}\n", p, 1+p)
			}
		}
		return b.Bytes()
	}},
	{"Namespaces", dimSizes, func(n int) []byte {
		// n namespaces, each in one cluster and holding one service.
		b := base(500)
		b.WriteString("  namespaces:\n")
		for k := range n {
			fmt.Fprintf(b, "    - {name: ns-%05d, clusters: [%s]}\n", k, ClusterName(k%500))
		}
		b.WriteString("  services:\n")
		for k := range n {
			fmt.Fprintf(b, "    - {name: svc, namespace: ns-%05d, ports: [{name: http, port: 8080}]}\n", k)
		}
		return b.Bytes()
	}},
	{"Networks", dimSizes, func(n int) []byte {
		// n clusters, each on a network of its own.
		var b bytes.Buffer
		fmt.Fprintf(&b, "apiVersion: meshc.dev/v1alpha1\nkind: Mesh\nmetadata:\n  name: networks-%d\nspec:\n  meshID: mesh1\n  topology: primary-remote\n  istio:\n    version: \"1.28.0\"\n  networks:\n", n)
		for i := range n {
			fmt.Fprintf(&b, "    - name: %s\n", networkOf(i))
		}
		b.WriteString("  clusters:\n")
		for i := range n {
			if i < 10 {
				fmt.Fprintf(&b, "    - {name: %s, network: %s, role: primary, eastWestGateway: {address: %s}}\n", ClusterName(i), networkOf(i), primaryAddress(i))
				continue
			}
			fmt.Fprintf(&b, "    - {name: %s, network: %s, role: remote, controlPlane: %s, eastWestGateway: {}}\n", ClusterName(i), networkOf(i), ClusterName(i%10))
		}
		return b.Bytes()
	}},
	{"WorkloadGroups", dimSizes, func(n int) []byte {
		b := base(500)
		b.WriteString("  namespaces:\n    - name: app-00\n")
		vmGroups(b, n, 3)
		return b.Bytes()
	}},
	{"VMInstances", dimSizes, func(n int) []byte {
		// One workload group of n static instances.
		b := base(500)
		b.WriteString("  namespaces:\n    - name: app-00\n")
		vmGroups(b, 1, n)
		return b.Bytes()
	}},
	{"Peers", []int{250, 1000}, func(n int) []byte {
		// n federated peers, each taking one service and giving one.
		b := federatedBase(100)
		services(b, 100, 1)
		peers(b, n, 1)
		return b.Bytes()
	}},
	{"PeerServices", dimSizes, func(n int) []byte {
		// One peer taking n services and giving n.
		b := federatedBase(100)
		services(b, n, 1)
		peers(b, 1, n)
		return b.Bytes()
	}},
}

// base is the start of a primary-remote mesh of n clusters, ending in its
// clusters, so that sections can follow.
func base(n int) *bytes.Buffer {
	return bytes.NewBuffer(Generate(Shape{Topology: PrimaryRemote, Clusters: n}))
}

// federatedBase is base for a mesh that has peers.
func federatedBase(n int) *bytes.Buffer {
	return bytes.NewBuffer(Generate(Shape{Topology: PrimaryRemote, Clusters: n, Federated: true}))
}

func networkOf(i int) string { return fmt.Sprintf("network-%05d", i) }

// services adds ns namespaces in every cluster and n services dealt out to
// them, each run and consumed by every cluster of its namespace.
func services(b *bytes.Buffer, n, ns int) {
	b.WriteString("  namespaces:\n")
	for k := range ns {
		fmt.Fprintf(b, "    - name: app-%02d\n", k)
	}
	b.WriteString("  services:\n")
	for k := range n {
		fmt.Fprintf(b, "    - {name: svc-%05d, namespace: app-%02d, ports: [{name: http, port: 8080, protocol: HTTP}]}\n", k, k%ns)
	}
}

// vmGroups adds n workload groups in namespace app-00, dealt out to the
// mesh's first ten clusters (its primaries), each with instances static
// VMs on its primary's network.
func vmGroups(b *bytes.Buffer, n, instances int) {
	b.WriteString("  workloadGroups:\n")
	for k := range n {
		p := k % 10
		fmt.Fprintf(b, "    - name: vm-%05d\n      namespace: app-00\n      network: %s\n      cluster: %s\n      ports: [{name: http, port: 8080}]\n      labels: {app: vm-%05d, tier: backend}\n      instances:\n",
			k, NetworkName(p), ClusterName(p), k)
		for j := range instances {
			v := k*instances + j
			fmt.Fprintf(b, "        - {name: vm-%05d-%d, address: 10.%d.%d.%d}\n", k, j, v>>16&255, v>>8&255, v&255)
		}
	}
}

// peers adds n peers, each exporting services svc-… of the mesh and
// importing as many of its own.
func peers(b *bytes.Buffer, n, each int) {
	b.WriteString("  peers:\n")
	pem := "          " + strings.ReplaceAll(strings.TrimSpace(PeerAnchor), "\n", "\n          ")
	for p := range n {
		fmt.Fprintf(b, "    - meshID: peer-%d\n      trustDomain: peer-%d.example.com\n      network: peer-%d\n      gateways:\n        - address: 203.0.113.%d\n      trustAnchor:\n        pem: |\n%s\n      exports:\n",
			p, p, p, 1+p%250, pem)
		for k := range each {
			fmt.Fprintf(b, "        - {host: svc-%05d.app-00.svc.cluster.local, ports: [{name: http, port: 8080, protocol: HTTP}]}\n", (p*each+k)%max(each, 100))
		}
		b.WriteString("      imports:\n")
		for k := range each {
			fmt.Fprintf(b, "        - {host: api-%d.peer-%d.svc.cluster.local, ports: [{name: http, port: 8080, protocol: HTTP}], identities: [spiffe://peer-%d.example.com/ns/peer/sa/api-%d]}\n", k, p, p, k)
		}
	}
}

// PeerAnchor is a peer's trust anchor: the root certificate the
// federation-east example trusts (a certificate, public by nature).
//
//go:embed peer-anchor.pem
var PeerAnchor string
