package rules

import (
	"fmt"
	"net/netip"
	"slices"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
)

// The checks of workload groups: rules MC050–MC059 of Rules.

// vmPrimary returns the primary group i registers with, or nil (MC054).
func vmPrimary(m *mesh.Mesh, g *mesh.WorkloadGroup) *mesh.Cluster {
	if c := m.Cluster(g.Cluster); c != nil && c.IsPrimary() {
		return c
	}
	return nil
}

func checkVMIstiodHostname(m *mesh.Mesh, report func(string, string, ...any)) {
	for i, c := range m.Spec.Clusters {
		if m.Cluster(c.Name) != &m.Spec.Clusters[i] || !c.IsPrimary() {
			continue
		}
		groups := m.WorkloadGroups(c.Name)
		if len(groups) == 0 || c.IstiodHost() == "" {
			continue
		}
		field := "eastWestGateway.address"
		if c.Istiod != nil && c.Istiod.Address != "" {
			field = "istiod.address"
		}
		names := make([]string, len(groups))
		for k, g := range groups {
			names[k] = g.Namespace + "/" + g.Name
		}
		verb := "registers"
		if len(names) > 1 {
			verb = "register"
		}
		report(clusterPath(i, field), "%s %s with %q, whose istiod is reached at hostname %q; VMs reach istiod through a hosts file entry, which needs an IP: give the IP here",
			diag.Plural("workload group", names), verb, c.Name, c.IstiodAddress())
	}
}

func checkVMIstiodUnreachable(m *mesh.Mesh, report func(string, string, ...any)) {
	for i := range m.Spec.WorkloadGroups {
		g := &m.Spec.WorkloadGroups[i]
		c := vmPrimary(m, g)
		switch {
		case c == nil || c.IstiodAddress() != "":
		case c.EastWestGateway == nil:
			report(groupPath(i, "cluster"), "workload group %q registers with %q, which has no eastWestGateway to expose istiod to VMs through; add eastWestGateway with its address, or give istiod.address", g.Name, c.Name)
		default:
			report(groupPath(i, "cluster"), "workload group %q registers with %q, whose east-west gateway has no address; the VMs' hosts file needs it: set eastWestGateway.address to the gateway's external IP (learnAddress is not enough for VMs)", g.Name, c.Name)
		}
	}
}

func checkVMNamespaceNotShared(m *mesh.Mesh, report func(string, string, ...any)) {
	declared := newNameSet(m.SharedNamespaceNames())
	for i, g := range m.Spec.WorkloadGroups {
		path := groupPath(i, "namespace")
		if slices.Contains(reservedNamespaces, g.Namespace) {
			report(path, "namespace %q belongs to %s in every cluster; put VMs in an application namespace", g.Namespace, owner(g.Namespace))
			continue
		}
		if declared.Len() == 0 {
			continue // the mesh shares no namespace; workload-groups.yaml creates it
		}
		ns := m.SharedNamespace(g.Namespace)
		if ns == nil {
			report(path, "workload group %q is in namespace %q, which spec.namespaces does not share (shared: %s)", g.Name, g.Namespace, declared, diag.Suggested(declared.Suggest(g.Namespace)))
			continue
		}
		if m.Cluster(g.Cluster) != nil && !m.NamespaceHas(ns, g.Cluster) {
			report(path, "workload group %q registers with cluster %q, but its namespace %q does not exist there (namespace clusters: %s)", g.Name, g.Cluster, g.Namespace, diag.ListNames(m.NamespaceClusters(ns)))
		}
	}
}

func checkVMPortConflict(m *mesh.Mesh, report func(string, string, ...any)) {
	portNames := map[*mesh.SharedService]*nameSet{} // each service's, built once
	for i, g := range m.Spec.WorkloadGroups {
		entries := m.ServiceEntries(g.Namespace, g.Name)
		if len(entries) == 0 {
			continue
		}
		svc := entries[0]
		names := portNames[svc]
		if names == nil {
			list := make([]string, len(svc.Ports))
			for k, p := range svc.Ports {
				list[k] = p.Name
			}
			names = newNameSet(list)
			portNames[svc] = names
		}
		for j, p := range g.Ports {
			if names.Has(p.Name) {
				continue
			}
			report(fmt.Sprintf("%s[%d].name", groupPath(i, "ports"), j), "port %q of workload group %q backs the port of that name of Service %s/%s, which has none (ports: %s)", p.Name, g.Name, g.Namespace, g.Name, names, diag.Suggested(names.Suggest(p.Name)))
		}
	}
}

func checkVMClusterNotPrimary(m *mesh.Mesh, report func(string, string, ...any)) {
	var list []string
	for _, c := range m.Spec.Clusters {
		if c.IsPrimary() {
			list = append(list, c.Name)
		}
	}
	primaries := newNameSet(list)
	for i, g := range m.Spec.WorkloadGroups {
		c := m.Cluster(g.Cluster)
		switch {
		case c == nil:
			report(groupPath(i, "cluster"), "cluster %q is not in the mesh (primaries: %s)", g.Cluster, primaries, diag.Suggested(primaries.Suggest(g.Cluster)))
		case !c.IsPrimary():
			report(groupPath(i, "cluster"), "workload group %q registers with remote cluster %q, which runs no istiod; register it with a primary (%s), such as its control plane %q", g.Name, c.Name, primaries, c.ControlPlane)
		}
	}
}

func checkVMUndeclaredNetwork(m *mesh.Mesh, report func(string, string, ...any)) {
	var list []string
	for _, n := range m.Spec.Networks {
		list = append(list, n.Name)
	}
	names := newNameSet(list)
	for i, g := range m.Spec.WorkloadGroups {
		if names.Has(g.Network) {
			continue
		}
		report(groupPath(i, "network"), "network %q is not declared (declared: %s)", g.Network, names, diag.Suggested(names.Suggest(g.Network)))
	}
}

func checkDuplicateWorkloadGroup(m *mesh.Mesh, report func(string, string, ...any)) {
	groups := map[string]int{}
	entries := map[string]string{}   // namespace/name → path of the WorkloadEntry
	addresses := map[string]string{} // network/address → path of the instance
	for i, g := range m.Spec.WorkloadGroups {
		key := g.Namespace + "/" + g.Name
		if j, ok := groups[key]; ok {
			report(groupPath(i, "name"), "workload group %s is already declared as %s; declare each group once", key, groupPath(j, ""))
			continue
		}
		groups[key] = i
		ports := map[string]int{}
		for j, p := range g.Ports {
			if k, ok := ports[p.Name]; ok {
				report(fmt.Sprintf("%s[%d].name", groupPath(i, "ports"), j), "port name %q is already used by ports[%d]; a WorkloadGroup's ports are keyed by name", p.Name, k)
				continue
			}
			ports[p.Name] = j
		}
		for j, in := range g.Instances {
			p := fmt.Sprintf("%s[%d]", groupPath(i, "instances"), j)
			if other, ok := entries[g.Namespace+"/"+in.Name]; ok {
				report(p+".name", "WorkloadEntry %s/%s is already declared as %s; instance names must be unique in their namespace", g.Namespace, in.Name, other)
			} else {
				entries[g.Namespace+"/"+in.Name] = p
			}
			if other, ok := addresses[g.Network+"/"+in.Address]; ok {
				report(p+".address", "address %s on network %q is already %s's; each VM has its own address", in.Address, g.Network, other)
			} else {
				addresses[g.Network+"/"+in.Address] = p
			}
		}
	}
}

func checkVMInstanceAddress(m *mesh.Mesh, report func(string, string, ...any)) {
	for i, g := range m.Spec.WorkloadGroups {
		for j, in := range g.Instances {
			p := fmt.Sprintf("%s[%d].address", groupPath(i, "instances"), j)
			if msg := addressProblem(in.Address); msg != "" {
				report(p, "%s", msg)
			} else if _, err := netip.ParseAddr(in.Address); err != nil {
				report(p, "%q is a hostname; a WorkloadEntry of a VM needs its IP", in.Address)
			}
		}
	}
}

func checkVMProbe(m *mesh.Mesh, report func(string, string, ...any)) {
	for i, g := range m.Spec.WorkloadGroups {
		switch p := g.Probe; {
		case p == nil:
		case p.HTTPGet == nil && p.TCPSocket == nil:
			report(groupPath(i, "probe"), "probe of workload group %q checks nothing: give httpGet or tcpSocket", g.Name)
		case p.HTTPGet != nil && p.TCPSocket != nil:
			report(groupPath(i, "probe.tcpSocket"), "probe of workload group %q gives both httpGet and tcpSocket; Istio runs one check, so keep one", g.Name)
		}
	}
}

func checkVMServiceNotRun(m *mesh.Mesh, report func(string, string, ...any)) {
	type service struct {
		runs func(string) bool
		list string // where it runs, for the message
	}
	services := map[string]*service{} // by namespace/name, built once each
	for i, g := range m.Spec.WorkloadGroups {
		entries := m.ServiceEntries(g.Namespace, g.Name)
		if len(entries) == 0 || m.Cluster(g.Cluster) == nil || m.SharedNamespace(g.Namespace) == nil {
			continue
		}
		svc := services[g.Namespace+"/"+g.Name]
		if svc == nil {
			ns := m.SharedNamespace(g.Namespace)
			var lists [][]string
			listed, everywhere := map[string]bool{}, false
			for _, e := range entries {
				lists = append(lists, m.ServiceClusters(e))
				everywhere = everywhere || e.Clusters == nil
				for _, c := range e.Clusters {
					listed[c] = true
				}
			}
			svc = &service{list: listNamesIn(lists), runs: func(c string) bool {
				return listed[c] || everywhere && m.NamespaceHas(ns, c)
			}}
			services[g.Namespace+"/"+g.Name] = svc
		}
		if !svc.runs(g.Cluster) {
			report(groupPath(i, "cluster"), "workload group %q backs service %s/%s, which spec.services does not run in %q, where the group registers (runs in: %s); add %q to the service's clusters",
				g.Name, g.Namespace, g.Name, g.Cluster, svc.list, g.Cluster)
		}
	}
}
