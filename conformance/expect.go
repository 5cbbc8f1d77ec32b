package conformance

import (
	"net"
	"strconv"

	"meshc.dev/meshc/mesh"
)

// This file derives what a working mesh sends each sidecar from the Mesh
// alone, independently of meshc's renderer on purpose: it reads no rendered
// file and calls no compiler function that renders, so a rendering bug
// cannot make its own expectation. It is the multicluster guides' promise,
// written out:
//
//   - every primary reads every cluster of the mesh (its own and, through
//     remote secrets, all others), so every sidecar sees the sample pods of
//     every cluster, labelled with that cluster's name;
//   - a pod on the sidecar's network (or in a one-network mesh) is reached
//     directly, at its IP;
//   - a pod on another network is reached through an east-west gateway of
//     that network on 15443 (its own cluster's if it has one), whose weight
//     is the number of pods it stands for, split evenly when several
//     gateways of the network stand for them;
//   - in a mesh of several networks, an east-west gateway opens 15443 for
//     the sample service (AUTO_PASSTHROUGH: an SNI cluster per service) and
//     sends what comes in to the sample pods of its own network only, every
//     cluster's, directly.

// meshFacts is what istiod should hold for m: each cluster's network and
// east-west gateway.
func meshFacts(m *mesh.Mesh) Facts {
	f := Facts{Networks: map[string]string{}, Gateways: map[string]string{}, VMNetworks: map[string]string{}}
	for _, g := range m.Spec.WorkloadGroups {
		f.VMNetworks[g.Namespace+"/"+g.Name] = g.Network
	}
	f.TrustDomain, f.Federated = m.Spec.TrustDomain, m.Federated()
	for _, p := range m.Spec.Peers {
		f.PeerNetworks = append(f.PeerNetworks, p.Network)
		f.PeerTrustDomains = append(f.PeerTrustDomains, p.TrustDomain)
	}
	for i := range m.Spec.Clusters {
		c := &m.Spec.Clusters[i]
		f.Networks[c.Name] = c.Network
		if c.EastWestGateway != nil {
			f.Gateways[c.Name] = net.JoinHostPort(gatewayAddress(c, i), "15443")
		}
	}
	return f
}

// proxyNetwork is the network the Mesh puts p on: its workload group's for
// a VM's sidecar, its cluster's otherwise.
func proxyNetwork(m *mesh.Mesh, p *Proxy) string {
	for _, g := range m.Spec.WorkloadGroups {
		if p.VMGroup != "" && p.VMGroup == g.Namespace+"/"+g.Name {
			return g.Network
		}
	}
	return m.Cluster(p.Cluster).Network
}

// gatewayAddress is the IP istiod finds the i-th cluster's east-west
// gateway at: its load balancer's, resolved by the harness's DNS when the
// Mesh gives a hostname.
func gatewayAddress(c *mesh.Cluster, i int) string { return hostAddress(loadBalancerAddress(c, i)) }

// wantEndpoints is what a sidecar on network here must be sent for the
// sample service, which runs in every cluster.
func wantEndpoints(m *mesh.Mesh, here string) []Endpoint {
	var runs []int
	for x := range m.Spec.Clusters {
		runs = append(runs, x)
	}
	return wantEndpointsOf(m, here, runs, func(x, k int) string { return samplePodIP(x, k) }, samplePort)
}

// wantEndpointsOf is what a sidecar on network here must be sent for a
// service on port that runs in the clusters runs (indices), with
// samplePods(x) pods at podIP(x, k). Weights are relative: a pod counts L, a
// gateway L times the pods it stands for divided by the gateways sharing
// them.
func wantEndpointsOf(m *mesh.Mesh, here string, runs []int, podIP func(x, k int) string, port int) []Endpoint {
	clusters := m.Spec.Clusters
	multiNetwork := m.MultiNetwork()

	// The gateways standing for cluster x's pods, when a sidecar cannot
	// reach them directly.
	gatewaysFor := func(x int) []int {
		if c := &clusters[x]; c.EastWestGateway != nil {
			return []int{x}
		}
		var gws []int
		for y := range clusters {
			if clusters[y].Network == clusters[x].Network && clusters[y].EastWestGateway != nil {
				gws = append(gws, y)
			}
		}
		return gws
	}
	const L = 720720 // divisible by 1..16: any number of gateways a test mesh shares
	var out []Endpoint
	gatewayWeight := map[int]uint32{}
	var gatewayOrder []int
	for _, x := range runs {
		c := &clusters[x]
		gws := gatewaysFor(x)
		if !multiNetwork || c.Network == here || len(gws) == 0 {
			for k := range samplePods(x) {
				out = append(out, Endpoint{
					Address: net.JoinHostPort(podIP(x, k), strconv.Itoa(port)),
					Cluster: c.Name, Weight: L,
				})
			}
			continue
		}
		for _, y := range gws {
			if _, ok := gatewayWeight[y]; !ok {
				gatewayOrder = append(gatewayOrder, y)
			}
			gatewayWeight[y] += uint32(samplePods(x)) * L / uint32(len(gws))
		}
	}
	for _, y := range gatewayOrder {
		out = append(out, Endpoint{
			Address: net.JoinHostPort(gatewayAddress(&clusters[y], y), "15443"),
			Cluster: clusters[y].Name, Weight: gatewayWeight[y],
		})
	}
	return out
}

// gatewaySNICluster is the Envoy cluster an east-west gateway routes the
// sample service's cross-network traffic to, named after the SNI sidecars
// send.
var gatewaySNICluster = "outbound_." + strconv.Itoa(samplePort) + "_._." + sampleHost

// wantGatewayEndpoints is what the east-west gateway of cluster `from` must
// be sent: in a mesh of several networks, the sample pods of every cluster
// on its network; ok is false in a one-network mesh, where gateways carry no
// service traffic.
func wantGatewayEndpoints(m *mesh.Mesh, from string) (eps []Endpoint, ok bool) {
	if !m.MultiNetwork() {
		return nil, false
	}
	here := m.Cluster(from).Network
	for x := range m.Spec.Clusters {
		c := &m.Spec.Clusters[x]
		if c.Network != here {
			continue
		}
		for k := range samplePods(x) {
			eps = append(eps, Endpoint{
				Address: net.JoinHostPort(samplePodIP(x, k), strconv.Itoa(samplePort)),
				Cluster: c.Name, Weight: 1,
			})
		}
	}
	return eps, true
}
