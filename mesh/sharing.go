package mesh

import (
	"slices"
	"sync"
)

// ClusterDomain is the Kubernetes DNS domain of every cluster's Services, the
// suffix of a shared service's host (name.namespace.svc.cluster.local).
const ClusterDomain = "cluster.local"

// Host is the service's name in the mesh, the same in every cluster.
func (s *SharedService) Host() string {
	return s.Name + "." + s.Namespace + ".svc." + ClusterDomain
}

// InjectionKey and InjectionValue are the label that sets sidecar injection
// in the namespace: istio.io/rev with a tag (or revision), istio-injection
// otherwise (enabled unless the input says disabled).
func (n *SharedNamespace) InjectionKey() string {
	if n.RevLabel() != "" {
		return RevLabel
	}
	return "istio-injection"
}

// RevLabel is the istio.io/rev value the namespace carries: its tag, or the
// name its revision field gives; "" when it uses istio-injection.
func (n *SharedNamespace) RevLabel() string {
	if n.Tag != "" {
		return n.Tag
	}
	return n.Revision
}

// InjectionValue: see InjectionKey.
func (n *SharedNamespace) InjectionValue() string {
	switch {
	case n.RevLabel() != "":
		return n.RevLabel()
	case n.Revision != "":
		return n.Revision
	case n.IstioInjection != "":
		return n.IstioInjection
	}
	return "enabled"
}

// sharing is what the mesh's shared namespaces and services mean, derived
// once with the rest of the topology. What Validate reads is derived when
// the mesh loads, at a cost linear in the input; what each cluster holds
// (a product of clusters and namespaces or services, the size of the
// output) only when a renderer first asks.
type sharing struct {
	// nsByName is each shared namespace by name (the first, if declared
	// twice: MC026 reports the second).
	nsByName map[string]*SharedNamespace
	nsNames  []string // the shared namespaces' names, in input order, once each
	// entries are the entries of spec.services by namespace/name, in input
	// order (MC026 reports more than one for a cluster).
	entries map[string][]*SharedService
	// nsListed and svcListed are the clusters an explicit clusters list
	// names, by the namespace or service entry holding it: membership in
	// a list of thousands costs a lookup.
	nsListed  map[*SharedNamespace]map[string]bool
	svcListed map[*SharedService]map[string]bool
	// clusterLocalHosts are the hosts of cluster-local services, in input
	// order, without repeats.
	clusterLocalHosts []string

	// perCluster derives namespaces and stubs on first use.
	perCluster sync.Once
	// namespaces and stubs are, by cluster name, the shared namespaces it
	// holds and the services it consumes without running them.
	namespaces map[string][]*SharedNamespace
	stubs      map[string][]*SharedService
}

func newSharing(m *Mesh) *sharing {
	sh := &sharing{nsByName: map[string]*SharedNamespace{}, entries: map[string][]*SharedService{},
		nsListed: map[*SharedNamespace]map[string]bool{}, svcListed: map[*SharedService]map[string]bool{}}
	for i := range m.Spec.Namespaces {
		n := &m.Spec.Namespaces[i]
		if _, dup := sh.nsByName[n.Name]; dup {
			continue
		}
		sh.nsByName[n.Name] = n
		sh.nsNames = append(sh.nsNames, n.Name)
		if n.Clusters != nil {
			sh.nsListed[n] = setOf(n.Clusters)
		}
	}
	seenLocal := map[string]bool{}
	for i := range m.Spec.Services {
		s := &m.Spec.Services[i]
		key := s.Namespace + "/" + s.Name
		sh.entries[key] = append(sh.entries[key], s)
		if s.Clusters != nil {
			sh.svcListed[s] = setOf(s.Clusters)
		}
		if s.ClusterLocal && !seenLocal[s.Host()] {
			seenLocal[s.Host()] = true
			sh.clusterLocalHosts = append(sh.clusterLocalHosts, s.Host())
		}
	}
	return sh
}

func setOf(names []string) map[string]bool {
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[n] = true
	}
	return set
}

// nsHas reports whether shared namespace n exists in cluster c, a cluster
// of t.
func (sh *sharing) nsHas(t *topology, n *SharedNamespace, c string) bool {
	if n.Clusters == nil {
		return t.byName[c] != nil
	}
	return sh.nsListed[n][c]
}

// runsIn reports whether entry s runs in cluster c: serviceClusters, as a
// lookup.
func (sh *sharing) runsIn(t *topology, s *SharedService, c string) bool {
	if s.Clusters != nil {
		return sh.svcListed[s][c]
	}
	ns := sh.nsByName[s.Namespace]
	return ns != nil && sh.nsHas(t, ns, c)
}

// derivePerCluster fills namespaces and stubs. A service's stubs are the
// clusters that consume it by one of its entries and run it by none. Each
// service is worked out once, from its entries' lists; the clusters of its
// namespace are walked only when some entry consumes it there and none
// runs it there, when each is a stub or named in a list: the cost is that
// of the input and the output.
func (sh *sharing) derivePerCluster(m *Mesh, t *topology) {
	sh.namespaces, sh.stubs = map[string][]*SharedNamespace{}, map[string][]*SharedService{}
	for _, name := range sh.nsNames {
		n := sh.nsByName[name]
		for _, c := range orAll(n.Clusters, t.names) {
			sh.namespaces[c] = append(sh.namespaces[c], n)
		}
	}
	if m.Spec.ServiceResolution == ResolveByDNSProxy {
		return
	}
	done := map[string]bool{}
	for i := range m.Spec.Services {
		s := &m.Spec.Services[i]
		key := s.Namespace + "/" + s.Name
		if s.ClusterLocal || done[key] {
			continue
		}
		done[key] = true
		ns := sh.nsByName[s.Namespace]
		var everywhere, consumedEverywhere bool // where ns exists
		listed := map[string]bool{}
		var consumers [][]string
		for _, e := range sh.entries[key] {
			if e.ClusterLocal {
				continue
			}
			if e.Clusters == nil {
				everywhere = true
			}
			for _, c := range e.Clusters {
				listed[c] = true
			}
			if e.Consumers == nil {
				consumedEverywhere = true
			} else {
				consumers = append(consumers, e.Consumers)
			}
		}
		if consumedEverywhere && !everywhere && ns != nil {
			consumers = append(consumers, orAll(ns.Clusters, t.names))
		}
		runs := func(c string) bool { return listed[c] || everywhere && ns != nil && sh.nsHas(t, ns, c) }
		stubbed := map[string]bool{}
		for _, list := range consumers {
			for _, c := range list {
				if t.byName[c] == nil || stubbed[c] || runs(c) {
					continue
				}
				stubbed[c] = true
				sh.stubs[c] = append(sh.stubs[c], s)
			}
		}
	}
}

func orAll(names, all []string) []string {
	if names == nil {
		return all
	}
	return names
}

// ServiceClusters is where s runs: its clusters, else every cluster of its
// namespace (none when the namespace is not shared, which MC023 reports).
func ServiceClusters(s *SharedService, ns *SharedNamespace, all []string) []string {
	if s.Clusters != nil {
		return s.Clusters
	}
	if ns == nil {
		return nil
	}
	return orAll(ns.Clusters, all)
}

// serviceConsumers is where s is called from: its consumers, else every
// cluster of its namespace, or, for a cluster-local service, where it runs.
func serviceConsumers(s *SharedService, ns *SharedNamespace, all []string) []string {
	switch {
	case s.Consumers != nil:
		return s.Consumers
	case s.ClusterLocal:
		return ServiceClusters(s, ns, all)
	case ns == nil:
		return nil
	}
	return orAll(ns.Clusters, all)
}

// SharedNamespace returns the shared namespace called name, or nil.
func (m *Mesh) SharedNamespace(name string) *SharedNamespace {
	return m.topo().sharing.nsByName[name]
}

// SharedNamespaceNames lists the shared namespaces' names in input order,
// each once, for messages.
func (m *Mesh) SharedNamespaceNames() []string { return slices.Clone(m.topo().sharing.nsNames) }

// ServiceClusters is where s runs: its clusters, else every cluster of its
// namespace (none when the namespace is not shared, which MC023 reports).
func (m *Mesh) ServiceClusters(s *SharedService) []string {
	return ServiceClusters(s, m.SharedNamespace(s.Namespace), m.topo().names)
}

// RunsIn reports whether entry s runs in cluster c: whether c is one of
// ServiceClusters(s), at the cost of a lookup.
func (m *Mesh) RunsIn(s *SharedService, c string) bool {
	return m.topo().sharing.runsIn(m.topo(), s, c)
}

// NamespaceHas reports whether shared namespace n exists in cluster c:
// whether c is one of NamespaceClusters(n), at the cost of a lookup.
func (m *Mesh) NamespaceHas(n *SharedNamespace, c string) bool {
	return m.topo().sharing.nsHas(m.topo(), n, c)
}

// ServiceEntries are the entries of spec.services for the service name in
// namespace ns, in input order.
func (m *Mesh) ServiceEntries(ns, name string) []*SharedService {
	return m.topo().sharing.entries[ns+"/"+name]
}

// NamespaceClusters is where n exists: its clusters, else every cluster.
func (m *Mesh) NamespaceClusters(n *SharedNamespace) []string {
	return orAll(n.Clusters, m.topo().names)
}

// ClusterLocalHosts are the hosts of the mesh's cluster-local services, in
// input order: every control plane's meshConfig.serviceSettings lists them.
func (m *Mesh) ClusterLocalHosts() []string { return m.topo().sharing.clusterLocalHosts }

// DNSProxy reports whether every control plane turns on Istio's DNS
// proxying, so consumers resolve services their cluster does not run.
func (m *Mesh) DNSProxy() bool {
	return m.Spec.ServiceResolution == ResolveByDNSProxy && len(m.Spec.Services) > 0
}

// SharedNamespaces are the shared namespaces the cluster holds, in input
// order.
func (p *Placement) SharedNamespaces() []*SharedNamespace {
	return p.Mesh.topo().perCluster().namespaces[p.Cluster.Name]
}

// ServiceStubs are the services the cluster named cluster consumes without
// running them and resolves through a stub Service, in input order.
func (m *Mesh) ServiceStubs(cluster string) []*SharedService {
	return m.topo().perCluster().stubs[cluster]
}

// ServiceStubs: see Mesh.ServiceStubs.
func (p *Placement) ServiceStubs() []*SharedService { return p.Mesh.ServiceStubs(p.Cluster.Name) }

// HasSharedNamespaces and HasServiceStubs say whether the cluster gets the
// files that hold them.
func (p *Placement) HasSharedNamespaces() bool { return len(p.SharedNamespaces()) > 0 }

// HasServiceStubs: see HasSharedNamespaces.
func (p *Placement) HasServiceStubs() bool { return len(p.ServiceStubs()) > 0 }

// HasAppManifests reports whether the cluster's manifests/ hold what the
// mesh shares (namespaces, service stubs) besides istio-system.
func (p *Placement) HasAppManifests() bool {
	return p.HasSharedNamespaces() || p.HasServiceStubs() || p.HasRevisionTags()
}
