package e2e

import (
	"fmt"
	"slices"
	"sort"

	"meshc.dev/meshc/mesh"
)

// Expectations are what a mesh promises, computed from the Mesh alone:
// which clusters each primary reads, which primary serves each cluster,
// each network's gateway addresses, and the services that run where.
type Expectations struct {
	Mesh *mesh.Mesh
	// Primary is each cluster's control plane: itself for a primary.
	Primary map[string]string
	// Network is each cluster's network.
	Network map[string]string
	// Gateways are each network's east-west gateway addresses.
	Gateways map[string][]string
	Services []Service
}

// Service is a service the harness deploys to check endpoints: where it
// runs and whether it is cluster-local.
type Service struct {
	Name, Namespace string
	Port            int
	Clusters        []string // where its pods run
	Consumers       []string // where its callers run: the proxies asked
	ClusterLocal    bool
	// Revision is the control plane revision that must inject its pods:
	// its namespace's tag's, else the mesh's ("default" when unnamed).
	Revision string
	// Labels are its namespace's labels when the harness creates it (none
	// when the plan does).
	Labels map[string]string
	// Ambient: its pods run in an ambient mesh, captured by ztunnel, never
	// injected; Revision is then "".
	Ambient bool
	// Global: an ambient mesh's service shared across clusters (every one
	// not cluster-local), which ztunnels elsewhere reach.
	Global bool
	// Waypoint is the waypoint its traffic goes through (ambient), or "".
	Waypoint string
}

// gatewayAddress is the east-west gateway's address: the Mesh's if it
// gives one (the user knows the load balancer's address), else the one the
// stand-in load balancer assigns to cluster number index.
func gatewayAddress(c mesh.Cluster, index int) string {
	if c.EastWestGateway != nil && c.EastWestGateway.Address != "" {
		return c.EastWestGateway.Address
	}
	return lbAddress(index, "istio-system", "istio-eastwestgateway")
}

// lbAddress is the stand-in load balancer's address for a Service of the
// cluster with that index (TEST-NET-2, unreachable by design): the
// east-west gateway gets .10, any other LoadBalancer Service .20.
func lbAddress(index int, ns, name string) string {
	if ns == "istio-system" && name == "istio-eastwestgateway" {
		return fmt.Sprintf("198.51.%d.10", 100+index)
	}
	return fmt.Sprintf("198.51.%d.20", 100+index)
}

// Expect computes a mesh's promises. index gives each cluster's fleet index
// (for the stand-in load balancer's addresses).
func Expect(m *mesh.Mesh, index func(cluster string) int) *Expectations {
	e := &Expectations{Mesh: m, Primary: map[string]string{}, Network: map[string]string{}, Gateways: map[string][]string{}}
	var all []string
	for _, c := range m.Spec.Clusters {
		all = append(all, c.Name)
		e.Network[c.Name] = c.Network
		e.Primary[c.Name] = c.Name
		if c.Role == "remote" {
			e.Primary[c.Name] = c.ControlPlane
		}
		if c.EastWestGateway != nil {
			e.Gateways[c.Network] = append(e.Gateways[c.Network], gatewayAddress(c, index(c.Name)))
		}
	}
	nsClusters := map[string][]string{}
	nsRevision := map[string]string{}
	for _, n := range m.Spec.Namespaces {
		nsClusters[n.Name] = n.Clusters
		nsRevision[n.Name] = e.namespaceRevision(n)
	}
	if len(m.Spec.Services) == 0 {
		// A sample in each namespace that selects a control plane by tag
		// or revision (the plan makes them), else in one the harness makes
		// with istio-injection, which the default revision serves.
		for _, n := range m.Spec.Namespaces {
			if n.Tag == "" && n.Revision == "" {
				continue
			}
			where := or(n.Clusters, all)
			e.Services = append(e.Services, Service{Name: "sample", Namespace: n.Name, Port: 80, Clusters: where, Consumers: where, Revision: nsRevision[n.Name]})
		}
		if len(e.Services) == 0 {
			e.Services = []Service{{Name: "sample", Namespace: "sample", Port: 80, Clusters: all, Consumers: all,
				Revision: e.Revision(), Labels: map[string]string{"istio-injection": "enabled"}}}
		}
		if m.Ambient() {
			for i := range e.Services {
				s := &e.Services[i]
				s.Ambient, s.Revision = true, ""
				if s.Labels != nil {
					s.Labels = map[string]string{"istio.io/dataplane-mode": "ambient"}
				}
			}
		}
	}
	for _, s := range m.Spec.Services {
		inNS := nsClusters[s.Namespace]
		if len(inNS) == 0 {
			inNS = all
		}
		where, callers := or(s.Clusters, inNS), or(s.Consumers, inNS)
		if s.ClusterLocal && len(s.Consumers) == 0 {
			callers = where
		}
		rev, labels := nsRevision[s.Namespace], map[string]string(nil)
		if rev == "" {
			rev, labels = e.Revision(), map[string]string{"istio-injection": "enabled"}
		}
		if m.Ambient() {
			// The data plane is the namespace's mode, not a revision's
			// injector.
			rev, labels = "", map[string]string{"istio.io/dataplane-mode": "ambient"}
		}
		e.Services = append(e.Services, Service{Name: s.Name, Namespace: s.Namespace, Port: s.Ports[0].Port,
			Clusters: where, Consumers: callers, ClusterLocal: s.ClusterLocal, Revision: rev, Labels: labels,
			Ambient: m.Ambient(), Global: m.Ambient() && !s.ClusterLocal, Waypoint: s.Waypoint})
	}
	return e
}

// Revision is the mesh's control plane revision as Istio names it on what
// it installs and injects: "default" when the Mesh names none.
func (e *Expectations) Revision() string {
	if r := e.Mesh.Spec.Istio.Revision; r != "" {
		return r
	}
	return "default"
}

// IstiodService is the name of the Service of a revision's istiod, as
// Istio's charts name it.
func IstiodService(revision string) string {
	if revision == "" || revision == "default" {
		return "istiod"
	}
	return "istiod-" + revision
}

// namespaceRevision is the revision that injects a namespace's pods: its
// tag's, or the revision it names; "" when it selects none.
func (e *Expectations) namespaceRevision(n mesh.SharedNamespace) string {
	if n.Revision != "" {
		return n.Revision
	}
	for _, t := range e.Mesh.Spec.Istio.Tags {
		if t.Name == n.Tag && n.Tag != "" {
			return t.Revision
		}
	}
	return ""
}

// Primaries are the mesh's primaries, in Mesh order.
func (e *Expectations) Primaries() []string {
	var ps []string
	for _, c := range e.Mesh.Spec.Clusters {
		if c.Role == "primary" {
			ps = append(ps, c.Name)
		}
	}
	return ps
}

// Clusters are the mesh's clusters, in Mesh order.
func (e *Expectations) Clusters() []string {
	var cs []string
	for _, c := range e.Mesh.Spec.Clusters {
		cs = append(cs, c.Name)
	}
	return cs
}

// Synced is what a primary's /debug/clusterz must list: every cluster of
// the mesh (its own and each one it reads through a remote secret), as
// every primary watches every other cluster's API server.
func (e *Expectations) Synced(primary string) []string {
	cs := e.Clusters()
	sort.Strings(cs)
	return cs
}

// Endpoints is what a proxy in cluster `from` must be sent for s: the pods'
// addresses in clusters of its own network, and for each other network
// where s runs, that network's gateways on 15443; a cluster-local service
// only its own cluster's pods. podIPs gives a cluster's pod addresses of s.
func (e *Expectations) Endpoints(from string, s Service, podIPs func(cluster string) []string) []string {
	set := map[string]bool{}
	for _, c := range s.Clusters {
		switch {
		case s.ClusterLocal && c != from:
		case e.Network[c] == e.Network[from]:
			for _, ip := range podIPs(c) {
				set[fmt.Sprintf("%s:%d", ip, s.Port)] = true
			}
		default:
			for _, gw := range e.Gateways[e.Network[c]] {
				set[gw+":15443"] = true
			}
		}
	}
	var out []string
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func or(a, b []string) []string {
	if len(a) > 0 {
		return a
	}
	return b
}

// hbonePort is the east-west gateway's HBONE port (the ambient guide's
// listener `mesh`), where another network's ztunnels reach it.
const hbonePort = 15008

// Key is how WDS names s among a workload's services.
func (s Service) Key() string {
	return fmt.Sprintf("%s/%s.%s.svc.cluster.local", s.Namespace, s.Name, s.Namespace)
}

// Ztunnel is what the ztunnel of a cluster `from` of an ambient mesh must
// be sent for s, as ZtunnelView sums it up: "direct <pod IP>" for each pod
// of its own cluster and, when s is global, of the clusters of its own
// network; when s is global, for each other network it runs in, one
// workload per east-west gateway of that network, "via <address>:15008 on
// network <n> for <k> pods", k the pods it stands for, never their IPs. A
// service that is not global: its own cluster's pods only. A service with a
// waypoint: "waypoint <namespace>/<waypoint host>:15008" too. podIPs gives
// a cluster's pod addresses of s.
func (e *Expectations) Ztunnel(from string, s Service, podIPs func(cluster string) []string) []string {
	out := []string{}
	pods := map[string]int{}
	for _, c := range s.Clusters {
		switch {
		case c == from || s.Global && e.Network[c] == e.Network[from]:
			for _, ip := range podIPs(c) {
				out = append(out, "direct "+ip)
			}
		case s.Global:
			pods[e.Network[c]] += len(podIPs(c))
		}
	}
	if s.Waypoint != "" && (slices.Contains(s.Clusters, from) || s.Global && slices.Contains(s.Consumers, from)) {
		// Its Service in `from` (its own, or the stub) names the waypoint,
		// which istiod resolves to the waypoint Service of the same
		// namespace in `from` (the hostname its Gateway's status reports),
		// on HBONE.
		out = append(out, fmt.Sprintf("waypoint %s/%s.%s.svc.cluster.local:%d", s.Namespace, s.Waypoint, s.Namespace, hbonePort))
	}
	for nw, n := range pods {
		if n == 0 {
			continue // nothing to reach there
		}
		for _, gw := range e.Gateways[nw] {
			out = append(out, viaGateway(nw, gw, hbonePort, n))
		}
	}
	sort.Strings(out)
	return out
}

func viaGateway(network, addr string, port uint32, pods int) string {
	return fmt.Sprintf("via %s:%d on network %s for %d pods", addr, port, network, pods)
}
