package rules

import (
	"fmt"
	"slices"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
)

// The cross-cluster rules of shared namespaces and services (MC020–MC026).

// reservedNamespaces are owned by Kubernetes or Istio in every cluster.
var reservedNamespaces = []string{"istio-system", "kube-node-lease", "kube-public", "kube-system"}

func checkReservedNamespace(m *mesh.Mesh, report func(string, string, ...any)) {
	for i, n := range m.Spec.Namespaces {
		if slices.Contains(reservedNamespaces, n.Name) {
			report(namespacePath(i, "name"), "namespace %q belongs to %s in every cluster; share only your applications' namespaces", n.Name, owner(n.Name))
		}
	}
}

func owner(ns string) string {
	if ns == "istio-system" {
		return "Istio (meshc renders it with its topology label)"
	}
	return "Kubernetes"
}

func checkConflictingInjection(m *mesh.Mesh, report func(string, string, ...any)) {
	for i, n := range m.Spec.Namespaces {
		switch {
		case n.Revision != "" && n.IstioInjection != "":
			report(namespacePath(i, "revision"), "namespace %q sets both istioInjection (%s) and revision (%s); istio-injection overrides istio.io/rev, so keep one", n.Name, n.IstioInjection, n.Revision)
		case n.Tag != "" && n.IstioInjection != "":
			report(namespacePath(i, "tag"), "namespace %q sets both istioInjection (%s) and tag (%s); istio-injection overrides istio.io/rev, so keep one", n.Name, n.IstioInjection, n.Tag)
		case n.Tag != "" && n.Revision != "":
			report(namespacePath(i, "revision"), "namespace %q sets both tag (%s) and revision (%s), two values for one label (istio.io/rev); keep tag", n.Name, n.Tag, n.Revision)
		}
	}
}

func checkUnknownCluster(m *mesh.Mesh, report func(string, string, ...any)) {
	names := newNameSet(m.ClusterNames())
	check := func(path string, list []string) {
		for j, c := range list {
			if m.Cluster(c) != nil {
				continue
			}
			report(fmt.Sprintf("%s[%d]", path, j), "cluster %q is not in the mesh (clusters: %s)", c, names, diag.Suggested(names.Suggest(c)))
		}
	}
	for i, n := range m.Spec.Namespaces {
		check(namespacePath(i, "clusters"), n.Clusters)
	}
	for i, s := range m.Spec.Services {
		check(servicePath(i, "clusters"), s.Clusters)
		check(servicePath(i, "consumers"), s.Consumers)
	}
}

func checkNamespaceNotShared(m *mesh.Mesh, report func(string, string, ...any)) {
	declared := newNameSet(m.SharedNamespaceNames())
	for i := range m.Spec.Services {
		s := &m.Spec.Services[i]
		ns := m.SharedNamespace(s.Namespace)
		if ns == nil {
			msg := fmt.Sprintf("service %q is in namespace %q, which spec.namespaces does not share", s.Name, s.Namespace)
			var suggested diag.Suggested
			if declared.Len() > 0 {
				msg += fmt.Sprintf(" (shared: %s)", declared)
				suggested = diag.Suggested(declared.Suggest(s.Namespace))
			} else {
				msg += "; add it to spec.namespaces"
			}
			report(servicePath(i, "namespace"), "%s", msg, suggested)
			continue
		}
		for _, f := range []struct {
			field, verb string
			list        []string
		}{{"clusters", "runs", s.Clusters}, {"consumers", "is consumed", s.Consumers}} {
			for j, c := range f.list {
				if m.Cluster(c) != nil && !m.NamespaceHas(ns, c) {
					report(fmt.Sprintf("%s[%d]", servicePath(i, f.field), j), "service %q %s in cluster %q, but its namespace %q does not exist there (namespace clusters: %s)",
						s.Name, f.verb, c, s.Namespace, diag.ListNames(m.NamespaceClusters(ns)))
				}
			}
		}
	}
}

func checkServicePortMismatch(m *mesh.Mesh, report func(string, string, ...any)) {
	first := map[string]int{}
	for i, s := range m.Spec.Services {
		key := s.Namespace + "/" + s.Name
		j, ok := first[key]
		if !ok {
			first[key] = i
			continue
		}
		if diff := portDiff(m.Spec.Services[j].Ports, s.Ports); diff != "" {
			report(servicePath(i, "ports"), "service %s/%s has other ports here than in %s: %s; every cluster must serve the same ports", s.Namespace, s.Name, servicePath(j, ""), diff)
		}
	}
}

// portDiff describes how ports b differ from ports a, or returns "".
func portDiff(a, b []mesh.ServicePort) string {
	byPort := func(ps []mesh.ServicePort) map[int]mesh.ServicePort {
		out := map[int]mesh.ServicePort{}
		for _, p := range ps {
			out[p.Port] = p
		}
		return out
	}
	pa, pb := byPort(a), byPort(b)
	var diffs []string
	for _, p := range a {
		q, ok := pb[p.Port]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("port %d missing", p.Port))
		case q.Name != p.Name:
			diffs = append(diffs, fmt.Sprintf("port %d named %q, not %q", p.Port, q.Name, p.Name))
		case q.Protocol != p.Protocol:
			diffs = append(diffs, fmt.Sprintf("port %d is %s, not %s", p.Port, q.Protocol, p.Protocol))
		}
	}
	for _, q := range b {
		if _, ok := pa[q.Port]; !ok {
			diffs = append(diffs, fmt.Sprintf("port %d added", q.Port))
		}
	}
	return diag.ListNames(diffs)
}

func checkClusterLocalConsumed(m *mesh.Mesh, report func(string, string, ...any)) {
	for i := range m.Spec.Services {
		s := &m.Spec.Services[i]
		if !s.ClusterLocal {
			continue
		}
		for j, c := range s.Consumers {
			if m.Cluster(c) != nil && !m.RunsIn(s, c) {
				report(fmt.Sprintf("%s[%d]", servicePath(i, "consumers"), j), "service %q is cluster-local, so cluster %q, which does not run it, cannot reach it (runs in: %s); drop clusterLocal or the consumer",
					s.Name, c, diag.ListNames(m.ServiceClusters(s)))
			}
		}
	}
}

func checkDuplicateShared(m *mesh.Mesh, report func(string, string, ...any)) {
	firstNS := map[string]int{}
	for i, n := range m.Spec.Namespaces {
		if j, ok := firstNS[n.Name]; ok {
			report(namespacePath(i, "name"), "namespace %q is already shared as %s; declare each namespace once", n.Name, namespacePath(j, ""))
			continue
		}
		firstNS[n.Name] = i
	}
	firstSvc := map[string]int{}
	for i, s := range m.Spec.Services {
		key := s.Namespace + "/" + s.Name
		if j, ok := firstSvc[key]; ok && m.Spec.Services[j].ClusterLocal != s.ClusterLocal {
			report(servicePath(i, "clusterLocal"), "service %s is cluster-local in one entry and not in %s; a service is cluster-local everywhere or nowhere", key, servicePath(j, ""))
		} else if !ok {
			firstSvc[key] = i
		}
	}
	checkServiceClaims(m, report)
}

// checkServiceClaims is MC026 for the clusters of a service's entries: an
// entry that runs the service in a cluster an earlier entry already runs
// it in is reported once, at the first such cluster in its own order,
// naming the earliest entry there. An entry without clusters runs in every
// cluster of its namespace; it is compared as a whole, never cluster by
// cluster, so the cost is that of the input's lists.
func checkServiceClaims(m *mesh.Mesh, report func(string, string, ...any)) {
	type claims struct {
		by  map[string]int // cluster → first entry listing it
		all int            // first entry without clusters, or -1
	}
	byKey := map[string]*claims{}
	order := map[*mesh.SharedNamespace]map[string]int{} // a namespace's clusters → position
	pos := func(ns *mesh.SharedNamespace, c string) (int, bool) {
		if ns.Clusters == nil {
			return m.ClusterIndex(c)
		}
		if order[ns] == nil {
			order[ns] = map[string]int{}
			for i, n := range ns.Clusters {
				if _, dup := order[ns][n]; !dup {
					order[ns][n] = i
				}
			}
		}
		i, ok := order[ns][c]
		return i, ok
	}
	dup := func(i int, key, c string, j int) {
		report(servicePath(i, ""), "service %s is already declared for cluster %q in %s; list each cluster in one entry", key, c, servicePath(j, ""))
	}
	for i := range m.Spec.Services {
		s := &m.Spec.Services[i]
		key := s.Namespace + "/" + s.Name
		cl := byKey[key]
		if cl == nil {
			cl = &claims{by: map[string]int{}, all: -1}
			byKey[key] = cl
		}
		ns := m.SharedNamespace(s.Namespace)
		if s.Clusters != nil {
			reported := false
			for _, c := range s.Clusters {
				j, ok := cl.by[c]
				if !reported && cl.all >= 0 && ns != nil && m.NamespaceHas(ns, c) && (!ok || cl.all < j) {
					j, ok = cl.all, true
				}
				if ok && !reported {
					dup(i, key, c, j)
					reported = true
				}
				if _, seen := cl.by[c]; !seen {
					cl.by[c] = i
				}
			}
			continue
		}
		if ns == nil {
			continue // runs nowhere (MC023)
		}
		// The first cluster of the namespace another entry holds.
		first, firstPos, firstBy := "", -1, -1
		if cl.all >= 0 {
			if in := m.NamespaceClusters(ns); len(in) > 0 {
				first, firstPos, firstBy = in[0], 0, cl.all
				if j, ok := cl.by[first]; ok && j < firstBy {
					firstBy = j
				}
			}
		} else {
			for c, j := range cl.by {
				if p, ok := pos(ns, c); ok && (firstPos < 0 || p < firstPos) {
					first, firstPos, firstBy = c, p, j
				}
			}
		}
		if firstPos >= 0 {
			dup(i, key, first, firstBy)
		}
		if cl.all < 0 {
			cl.all = i
		}
	}
}
