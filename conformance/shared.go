package conformance

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"meshc.dev/meshc/mesh"
)

// Shared services (spec.services) as the behavioural check runs them: each
// is deployed, like the sample service, in the clusters the Mesh says run
// it, next to whatever meshc rendered for the others (stub Services, shared
// namespaces). What sidecars must be sent is derived from the Mesh alone:
// the pods of every cluster that runs the service, directly or through
// gateways as for the sample service; for a cluster-local service, only its
// own cluster's.

// servicePodIP is the IP of the k-th pod of the s-th shared service in the
// i-th cluster.
func servicePodIP(s, i, k int) string { return samplePodIP(i, 20*(s+1)+k) }

// runsIn lists the indices of the clusters that run svc: its own list, else
// every cluster of its namespace.
func runsIn(m *mesh.Mesh, svc *mesh.SharedService) []int {
	names := svc.Clusters
	if names == nil {
		for _, ns := range m.Spec.Namespaces {
			if ns.Name == svc.Namespace {
				names = ns.Clusters
			}
		}
	}
	var out []int
	for x, c := range m.Spec.Clusters {
		if names == nil || slices.Contains(names, c.Name) {
			out = append(out, x)
		}
	}
	return out
}

// consumers lists the names of the clusters that call svc: its own list,
// else every cluster of its namespace (of the service, when cluster-local).
func consumers(m *mesh.Mesh, svc *mesh.SharedService) []string {
	if svc.Consumers != nil {
		return svc.Consumers
	}
	var out []string
	if svc.ClusterLocal {
		for _, x := range runsIn(m, svc) {
			out = append(out, m.Spec.Clusters[x].Name)
		}
		return out
	}
	for _, c := range m.Spec.Clusters {
		out = append(out, c.Name)
	}
	for _, ns := range m.Spec.Namespaces {
		if ns.Name == svc.Namespace && ns.Clusters != nil {
			return ns.Clusters
		}
	}
	return out
}

// deploySharedServices runs every shared service of m in the clusters of s
// that run it: pods and EndpointSlices, and the Service unless the cluster
// already holds one of that name.
func (s *Scenario) deploySharedServices(m *mesh.Mesh) {
	for si := range m.Spec.Services {
		svc := &m.Spec.Services[si]
		for _, x := range runsIn(m, svc) {
			cs := s.cluster(m.Spec.Clusters[x].Name)
			w := workload{name: svc.Name, namespace: svc.Namespace}
			for _, p := range svc.Ports {
				w.ports = append(w.ports, port{p.Name, int32(p.Port)})
			}
			for k := range samplePods(x) {
				w.podIPs = append(w.podIPs, servicePodIP(si, x, k))
			}
			cs.Objects = append(cs.Objects, w.objects(x, !cs.holdsService(svc.Namespace, svc.Name), cs.PodLabels)...)
		}
	}
}

// holdsService reports whether the cluster holds the Service ns/name.
func (c *ClusterState) holdsService(ns, name string) bool {
	return slices.ContainsFunc(c.Objects, func(o Object) bool {
		svc, ok := o.Object.(*corev1.Service)
		return ok && svc.Namespace == ns && svc.Name == name
	})
}

// expectSharedServices adds to each consumer's sidecar what it must be sent
// for every port of every shared service.
func (s *Scenario) expectSharedServices(m *mesh.Mesh) {
	for si := range m.Spec.Services {
		svc := &m.Spec.Services[si]
		for _, p := range s.Proxies {
			if p.Gateway || !slices.Contains(consumers(m, svc), p.Cluster) {
				continue
			}
			runs := runsIn(m, svc)
			if svc.ClusterLocal {
				runs = slices.DeleteFunc(runs, func(x int) bool { return m.Spec.Clusters[x].Name != p.Cluster })
			}
			for _, port := range svc.Ports {
				ec := fmt.Sprintf("outbound|%d||%s.%s.svc.cluster.local", port.Port, svc.Name, svc.Namespace)
				p.Want[ec] = wantEndpointsOf(m, proxyNetwork(m, p), runs, func(x, k int) string { return servicePodIP(si, x, k) }, port.Port)
			}
		}
	}
}
