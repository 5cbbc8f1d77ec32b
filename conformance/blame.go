package conformance

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	networking "istio.io/api/networking/v1alpha3"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/host"
	istiolabels "istio.io/istio/pkg/config/labels"
)

// blame explains why proxy p, served by the istiod of c, got the wrong
// endpoints: the first fact istiod holds that differs from the scenario's
// Facts, and the file that fact comes from. Facts are checked in the order a
// request flows: the proxy's own metadata, the clusters istiod reads, the
// networks of their workloads, their east-west gateways.
func (s *Scenario) blame(v *istiodView, c *ClusterState, p *Proxy, got, want []Endpoint) (file, why string) {
	kind, where := "sidecars", "in "+p.Cluster
	if p.Gateway {
		kind = "east-west gateways"
	}
	if p.VMGroup != "" {
		kind, where = "VMs", "of "+p.VMGroup
	}
	if w := s.Facts.network(p); p.Network != w {
		return p.MetadataFile, fmt.Sprintf("%s %s start with ISTIO_META_NETWORK %q, want %q", kind, where, p.Network, w)
	}
	if w := s.Facts.Networks[p.Cluster]; p.Gateway && !slices.Equal(p.NetworkView, []string{w}) {
		return p.MetadataFile, fmt.Sprintf("%s in %s start with ISTIO_META_REQUESTED_NETWORK_VIEW %q, want %q",
			kind, p.Cluster, strings.Join(p.NetworkView, ","), w)
	}
	if p.ClusterID != p.Cluster {
		return cmp.Or(p.ClusterIDFile, p.MetadataFile), fmt.Sprintf("%s %s start with ISTIO_META_CLUSTER_ID %q, want %q", kind, where, p.ClusterID, p.Cluster)
	}

	// Clusters istiod should read but does not, under their Mesh names.
	for _, id := range endpointClusters(want) {
		if slices.Contains(v.clusterIDs, id) {
			continue
		}
		if id == c.Name {
			return c.Istiod.ClusterIDFile, fmt.Sprintf("istiod of %s calls its own cluster %q, want %q", c.Name, c.Istiod.ClusterID, c.Name)
		}
		for _, r := range c.Istiod.Reads {
			if r.Source == id {
				return r.File, fmt.Sprintf("istiod of %s reads the API server of %s as cluster %q, want %q", c.Name, id, r.ClusterID, id)
			}
		}
		return c.Istiod.ReadsFrom, fmt.Sprintf("istiod of %s has no remote secret for %s, so it does not read that cluster", c.Name, id)
	}
	// Clusters it reads under a name the Mesh does not have.
	for _, id := range endpointClusters(got) {
		if _, ok := s.Facts.Networks[id]; ok {
			continue
		}
		for _, r := range c.Istiod.Reads {
			if r.ClusterID != id {
				continue
			}
			if _, ok := s.Facts.Networks[r.Source]; !ok {
				return r.File, fmt.Sprintf("istiod of %s reads the API server of %s, which is not a cluster of the mesh", c.Name, r.Source)
			}
			return r.File, fmt.Sprintf("istiod of %s reads the API server of %s as cluster %q, want %q", c.Name, r.Source, id, r.Source)
		}
		if id == c.Istiod.ClusterID {
			return c.Istiod.ClusterIDFile, fmt.Sprintf("istiod of %s calls its own cluster %q, want %q", c.Name, id, c.Name)
		}
	}

	// Networks istiod put each cluster's workloads on.
	nets := v.networks(sampleHost, sampleNamespace)
	gws := v.gateways()
	for _, id := range sortedKeysOf(s.Facts.Networks) {
		want := s.Facts.Networks[id]
		if got, ok := nets[id]; ok && !slices.Equal(got, []string{want}) {
			return s.cluster(id).NetworkFile, fmt.Sprintf("istiod of %s puts the workloads of %s on network %s, want %q",
				c.Name, id, quoteAll(got), want)
		}
	}
	// A peer's gateways (federation) are found in the primary holding its
	// istio-remote Gateway; the federation expectations check them.
	peers := func(fact string) bool {
		return slices.ContainsFunc(s.Facts.PeerNetworks, func(n string) bool {
			return strings.HasSuffix(fact, " on network "+strconv.Quote(n))
		})
	}
	for _, id := range sortedKeysOf(s.Facts.Networks) {
		var want []string
		if addr := s.Facts.Gateways[id]; addr != "" {
			want = []string{gatewayFact(addr, s.Facts.Networks[id])}
		}
		if got := slices.DeleteFunc(gws[id], peers); !slices.Equal(got, want) {
			file := s.cluster(id).GatewayFile
			if file == "" {
				file = id + "/install"
			}
			return file, fmt.Sprintf("istiod of %s finds %s as the east-west gateway of %s, want %s",
				c.Name, orNone(got), id, orNone(want))
		}
	}
	// Clusters istiod reads whose endpoints the proxy must not get: the
	// mesh config decides which services stay in their cluster.
	for _, id := range endpointClusters(got) {
		if _, ok := s.Facts.Networks[id]; ok && !slices.Contains(endpointClusters(want), id) && id != p.Cluster {
			return c.Istiod.ClusterIDFile, fmt.Sprintf("istiod of %s sends the %s endpoints of %s: its mesh config does not keep the service in the proxy's cluster", c.Name, p, id)
		}
	}

	return c.Name, fmt.Sprintf("istiod of %s: no single file explains the difference", c.Name)
}

// endpointClusters lists the cluster IDs of eps, sorted, once each.
func endpointClusters(eps []Endpoint) []string {
	var ids []string
	for _, e := range eps {
		ids = appendNew(ids, e.Cluster)
	}
	slices.Sort(ids)
	return ids
}

func quoteAll(s []string) string {
	q := make([]string, len(s))
	for i, x := range s {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// gatewayServesHosts reports whether cfg is a Gateway selecting a proxy
// with labels that has a server on port passing one of hosts (any host, if
// hosts is empty), by Istio's host matching.
func gatewayServesHosts(cfg *config.Config, labels map[string]string, port uint32, hosts []string) bool {
	gw, ok := cfg.Spec.(*networking.Gateway)
	if !ok || !istiolabels.Instance(gw.GetSelector()).SubsetOf(labels) {
		return false
	}
	for _, srv := range gw.GetServers() {
		if srv.GetPort().GetNumber() != port {
			continue
		}
		if len(hosts) == 0 {
			return true
		}
		for _, sh := range srv.GetHosts() {
			if _, h, ok := strings.Cut(sh, "/"); ok {
				sh = h
			}
			for _, h := range hosts {
				if host.Name(h).SubsetOf(host.Name(sh)) {
					return true
				}
			}
		}
	}
	return false
}

// filesNamingHost lists the rendered files that give istiod of c the
// service host h: its Istio config naming h (ServiceEntries,
// VirtualServices, DestinationRules) and the Services of that name in the
// clusters it reads.
func (s *Scenario) filesNamingHost(c *ClusterState, h string) []string {
	// Files naming h itself come before those whose wildcards match it
	// (a VirtualService for "*" names every host).
	if files := s.filesMatchingHost(c, func(x string) bool { return x == h }); len(files) > 0 {
		return files
	}
	return s.filesMatchingHost(c, func(x string) bool { return host.Name(h).SubsetOf(host.Name(x)) })
}

// filesMatchingHost lists the files of filesNamingHost with a host match
// accepts.
func (s *Scenario) filesMatchingHost(c *ClusterState, match func(string) bool) []string {
	var files []string
	matches := func(hosts ...string) bool { return slices.ContainsFunc(hosts, match) }
	for _, o := range c.Objects {
		if o.Config == nil || o.File == "" {
			continue
		}
		switch spec := o.Config.Spec.(type) {
		case *networking.ServiceEntry:
			if matches(spec.GetHosts()...) {
				files = appendNew(files, o.File)
			}
		case *networking.VirtualService:
			if matches(spec.GetHosts()...) {
				files = appendNew(files, o.File)
			}
		case *networking.DestinationRule:
			if matches(spec.GetHost()) {
				files = appendNew(files, o.File)
			}
		}
	}
	read := []*ClusterState{c}
	for _, r := range c.Istiod.Reads {
		if src := s.cluster(r.Source); src != nil {
			read = append(read, src)
		}
	}
	for _, cs := range read {
		for _, o := range cs.Objects {
			if svc, ok := o.Object.(*corev1.Service); ok && o.File != "" && matches(svc.Name+"."+svc.Namespace+".svc.cluster.local") {
				files = appendNew(files, o.File)
			}
		}
	}
	return files
}
