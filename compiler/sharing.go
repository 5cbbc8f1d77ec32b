package compiler

import (
	"bytes"
	"fmt"
	"slices"
	"sync"

	"meshc.dev/meshc/templates"
)

// ClusterDomain is the Kubernetes DNS domain of every cluster's Services, the
// suffix of a shared service's host (name.namespace.svc.cluster.local).
const ClusterDomain = "cluster.local"

// Host is the service's name in the mesh, the same in every cluster.
func (s *SharedService) Host() string {
	return s.Name + "." + s.Namespace + ".svc." + ClusterDomain
}

// InjectionKey and InjectionValue are the label that sets sidecar injection
// in the namespace: istio.io/rev with a revision, istio-injection otherwise
// (enabled unless the input says disabled).
func (n *SharedNamespace) InjectionKey() string {
	if n.Revision != "" {
		return "istio.io/rev"
	}
	return "istio-injection"
}

// InjectionValue: see InjectionKey.
func (n *SharedNamespace) InjectionValue() string {
	switch {
	case n.Revision != "":
		return n.Revision
	case n.IstioInjection != "":
		return n.IstioInjection
	}
	return "enabled"
}

// sharing is what the mesh's shared namespaces and services mean per
// cluster, derived once with the rest of the topology.
type sharing struct {
	// namespaces and stubs are, by cluster name, the shared namespaces it
	// holds and the services it consumes without running them.
	namespaces map[string][]*SharedNamespace
	stubs      map[string][]*SharedService
	// nsByName is each shared namespace by name (the first, if declared
	// twice: MC026 reports the second).
	nsByName map[string]*SharedNamespace
	nsNames  []string // the shared namespaces' names, in input order, once each
	// clusterLocalHosts are the hosts of cluster-local services, in input
	// order, without repeats.
	clusterLocalHosts []string

	// stubDocs holds each stubbed service's Service document, rendered once
	// per mesh: every consuming cluster gets the same bytes, and a mesh of
	// 300 clusters and 200 services has some 40,000 stubs.
	stubOnce sync.Once
	stubDocs map[*SharedService]string
	stubErr  error
}

func newSharing(m *Mesh, t *topology) *sharing {
	sh := &sharing{namespaces: map[string][]*SharedNamespace{}, stubs: map[string][]*SharedService{}, nsByName: map[string]*SharedNamespace{}}
	all := t.names
	nsByName := sh.nsByName
	for i := range m.Spec.Namespaces {
		n := &m.Spec.Namespaces[i]
		if _, dup := nsByName[n.Name]; dup {
			continue
		}
		nsByName[n.Name] = n
		sh.nsNames = append(sh.nsNames, n.Name)
		for _, c := range orAll(n.Clusters, all) {
			sh.namespaces[c] = append(sh.namespaces[c], n)
		}
	}
	seenLocal := map[string]bool{}
	for i := range m.Spec.Services {
		s := &m.Spec.Services[i]
		if s.ClusterLocal && !seenLocal[s.Host()] {
			seenLocal[s.Host()] = true
			sh.clusterLocalHosts = append(sh.clusterLocalHosts, s.Host())
		}
		if s.ClusterLocal || m.Spec.ServiceResolution == ResolveByDNSProxy {
			continue
		}
		runs := map[string]bool{}
		for _, c := range serviceClusters(s, nsByName[s.Namespace], all) {
			runs[c] = true
		}
		for _, c := range serviceConsumers(s, nsByName[s.Namespace], all) {
			if !runs[c] && t.byName[c] != nil && !stubbed(sh.stubs[c], s) {
				sh.stubs[c] = append(sh.stubs[c], s)
			}
		}
	}
	return sh
}

// stubbed reports whether stubs already holds a service of s's host (a
// service declared in several entries gets one stub).
func stubbed(stubs []*SharedService, s *SharedService) bool {
	for _, o := range stubs {
		if o.Name == s.Name && o.Namespace == s.Namespace {
			return true
		}
	}
	return false
}

func orAll(names, all []string) []string {
	if names == nil {
		return all
	}
	return names
}

// serviceClusters is where s runs: its clusters, else every cluster of its
// namespace (none when the namespace is not shared, which MC023 reports).
func serviceClusters(s *SharedService, ns *SharedNamespace, all []string) []string {
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
		return serviceClusters(s, ns, all)
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
	return serviceClusters(s, m.SharedNamespace(s.Namespace), m.topo().names)
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
	return p.Mesh.topo().sharing.namespaces[p.Cluster.Name]
}

// ServiceStubs are the services the cluster consumes without running them
// and resolves through a stub Service, in input order.
func (p *Placement) ServiceStubs() []*SharedService {
	return p.Mesh.topo().sharing.stubs[p.Cluster.Name]
}

// ServiceStubDocs are the cluster's stub Services as YAML documents, in the
// order of ServiceStubs.
func (p *Placement) ServiceStubDocs() ([]string, error) {
	sh := p.Mesh.topo().sharing
	sh.stubOnce.Do(func() {
		sh.stubDocs = map[*SharedService]string{}
		var buf bytes.Buffer
		for _, stubs := range sh.stubs {
			for _, s := range stubs {
				if _, done := sh.stubDocs[s]; done {
					continue
				}
				buf.Reset()
				if err := templates.Set.ExecuteTemplate(&buf, "service-stub.yaml.tmpl", s); err != nil {
					sh.stubErr = fmt.Errorf("service %s/%s: %w", s.Namespace, s.Name, err)
					return
				}
				sh.stubDocs[s] = buf.String()
			}
		}
	})
	if sh.stubErr != nil {
		return nil, sh.stubErr
	}
	stubs := p.ServiceStubs()
	docs := make([]string, len(stubs))
	for i, s := range stubs {
		docs[i] = sh.stubDocs[s]
	}
	return docs, nil
}

// HasSharedNamespaces and HasServiceStubs say whether the cluster gets the
// files that hold them.
func (p *Placement) HasSharedNamespaces() bool { return len(p.SharedNamespaces()) > 0 }

// HasServiceStubs: see HasSharedNamespaces.
func (p *Placement) HasServiceStubs() bool { return len(p.ServiceStubs()) > 0 }

// HasAppManifests reports whether the cluster's manifests/ hold what the
// mesh shares (namespaces, service stubs) besides istio-system.
func (p *Placement) HasAppManifests() bool { return p.HasSharedNamespaces() || p.HasServiceStubs() }
