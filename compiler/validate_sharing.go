package compiler

import (
	"fmt"
	"slices"
	"strings"
)

// The cross-cluster rules of shared namespaces and services (MC020–MC026).

// reservedNamespaces are owned by Kubernetes or Istio in every cluster.
var reservedNamespaces = []string{"istio-system", "kube-node-lease", "kube-public", "kube-system"}

func checkReservedNamespace(m *Mesh, report func(string, string, ...any)) {
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

func checkConflictingInjection(m *Mesh, report func(string, string, ...any)) {
	for i, n := range m.Spec.Namespaces {
		if n.Revision != "" && n.IstioInjection != "" {
			report(namespacePath(i, "revision"), "namespace %q sets both istioInjection (%s) and revision (%s); istio-injection overrides istio.io/rev, so keep one", n.Name, n.IstioInjection, n.Revision)
		}
	}
}

func checkUnknownCluster(m *Mesh, report func(string, string, ...any)) {
	names := m.ClusterNames()
	check := func(path string, list []string) {
		for j, c := range list {
			if m.Cluster(c) != nil {
				continue
			}
			msg := fmt.Sprintf("cluster %q is not in the mesh (clusters: %s)", c, strings.Join(names, ", "))
			if s := suggest(c, names); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			report(fmt.Sprintf("%s[%d]", path, j), "%s", msg)
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

func checkNamespaceNotShared(m *Mesh, report func(string, string, ...any)) {
	declared := m.SharedNamespaceNames()
	present := map[string]map[string]bool{} // namespace → clusters, built once per namespace
	for i, s := range m.Spec.Services {
		ns := m.SharedNamespace(s.Namespace)
		if ns == nil {
			msg := fmt.Sprintf("service %q is in namespace %q, which spec.namespaces does not share", s.Name, s.Namespace)
			if len(declared) > 0 {
				msg += fmt.Sprintf(" (shared: %s)", strings.Join(declared, ", "))
				if sug := suggest(s.Namespace, declared); sug != "" {
					msg += fmt.Sprintf("; did you mean %q?", sug)
				}
			} else {
				msg += "; add it to spec.namespaces"
			}
			report(servicePath(i, "namespace"), "%s", msg)
			continue
		}
		in := m.NamespaceClusters(ns)
		if present[ns.Name] == nil {
			present[ns.Name] = make(map[string]bool, len(in))
			for _, c := range in {
				present[ns.Name][c] = true
			}
		}
		for _, f := range []struct {
			field, verb string
			list        []string
		}{{"clusters", "runs", s.Clusters}, {"consumers", "is consumed", s.Consumers}} {
			for j, c := range f.list {
				if m.Cluster(c) != nil && !present[ns.Name][c] {
					report(fmt.Sprintf("%s[%d]", servicePath(i, f.field), j), "service %q %s in cluster %q, but its namespace %q does not exist there (namespace clusters: %s)",
						s.Name, f.verb, c, s.Namespace, strings.Join(in, ", "))
				}
			}
		}
	}
}

func checkServicePortMismatch(m *Mesh, report func(string, string, ...any)) {
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
func portDiff(a, b []ServicePort) string {
	byPort := func(ps []ServicePort) map[int]ServicePort {
		out := map[int]ServicePort{}
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
	return strings.Join(diffs, ", ")
}

func checkClusterLocalConsumed(m *Mesh, report func(string, string, ...any)) {
	for i, s := range m.Spec.Services {
		if !s.ClusterLocal {
			continue
		}
		runs := m.ServiceClusters(&s)
		for j, c := range s.Consumers {
			if m.Cluster(c) != nil && !slices.Contains(runs, c) {
				report(fmt.Sprintf("%s[%d]", servicePath(i, "consumers"), j), "service %q is cluster-local, so cluster %q, which does not run it, cannot reach it (runs in: %s); drop clusterLocal or the consumer",
					s.Name, c, strings.Join(runs, ", "))
			}
		}
	}
}

func checkDuplicateShared(m *Mesh, report func(string, string, ...any)) {
	firstNS := map[string]int{}
	for i, n := range m.Spec.Namespaces {
		if j, ok := firstNS[n.Name]; ok {
			report(namespacePath(i, "name"), "namespace %q is already shared as %s; declare each namespace once", n.Name, namespacePath(j, ""))
			continue
		}
		firstNS[n.Name] = i
	}
	firstSvc := map[string]int{}
	where := map[string]int{} // namespace/name@cluster → entry
	for i, s := range m.Spec.Services {
		key := s.Namespace + "/" + s.Name
		if j, ok := firstSvc[key]; ok && m.Spec.Services[j].ClusterLocal != s.ClusterLocal {
			report(servicePath(i, "clusterLocal"), "service %s is cluster-local in one entry and not in %s; a service is cluster-local everywhere or nowhere", key, servicePath(j, ""))
		} else if !ok {
			firstSvc[key] = i
		}
		for _, c := range m.ServiceClusters(&s) {
			if j, ok := where[key+"@"+c]; ok {
				report(servicePath(i, ""), "service %s is already declared for cluster %q in %s; list each cluster in one entry", key, c, servicePath(j, ""))
				break
			}
			where[key+"@"+c] = i
		}
	}
}
