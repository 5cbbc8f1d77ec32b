package compiler

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// The checks of workload groups: rules MC050–MC059 of Rules.

// vmPrimary returns the primary group i registers with, or nil (MC054).
func vmPrimary(m *Mesh, g *WorkloadGroup) *Cluster {
	if c := m.Cluster(g.Cluster); c != nil && c.IsPrimary() {
		return c
	}
	return nil
}

func checkVMIstiodHostname(m *Mesh, report func(string, string, ...any)) {
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
			plural("workload group", names), verb, c.Name, c.IstiodAddress())
	}
}

func checkVMIstiodUnreachable(m *Mesh, report func(string, string, ...any)) {
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

func checkVMNamespaceNotShared(m *Mesh, report func(string, string, ...any)) {
	declared := m.SharedNamespaceNames()
	for i, g := range m.Spec.WorkloadGroups {
		path := groupPath(i, "namespace")
		if slices.Contains(reservedNamespaces, g.Namespace) {
			report(path, "namespace %q belongs to %s in every cluster; put VMs in an application namespace", g.Namespace, owner(g.Namespace))
			continue
		}
		if len(declared) == 0 {
			continue // the mesh shares no namespace; workload-groups.yaml creates it
		}
		ns := m.SharedNamespace(g.Namespace)
		if ns == nil {
			msg := fmt.Sprintf("workload group %q is in namespace %q, which spec.namespaces does not share (shared: %s)", g.Name, g.Namespace, strings.Join(declared, ", "))
			if s := suggest(g.Namespace, declared); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			report(path, "%s", msg)
			continue
		}
		if in := m.NamespaceClusters(ns); m.Cluster(g.Cluster) != nil && !slices.Contains(in, g.Cluster) {
			report(path, "workload group %q registers with cluster %q, but its namespace %q does not exist there (namespace clusters: %s)", g.Name, g.Cluster, g.Namespace, strings.Join(in, ", "))
		}
	}
}

func checkVMPortConflict(m *Mesh, report func(string, string, ...any)) {
	for i, g := range m.Spec.WorkloadGroups {
		var svc *SharedService
		for k := range m.Spec.Services {
			if s := &m.Spec.Services[k]; s.Name == g.Name && s.Namespace == g.Namespace {
				svc = s
				break
			}
		}
		if svc == nil {
			continue
		}
		names := make([]string, len(svc.Ports))
		for k, p := range svc.Ports {
			names[k] = p.Name
		}
		for j, p := range g.Ports {
			if slices.Contains(names, p.Name) {
				continue
			}
			msg := fmt.Sprintf("port %q of workload group %q backs the port of that name of Service %s/%s, which has none (ports: %s)", p.Name, g.Name, g.Namespace, g.Name, strings.Join(names, ", "))
			if s := suggest(p.Name, names); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			report(fmt.Sprintf("%s[%d].name", groupPath(i, "ports"), j), "%s", msg)
		}
	}
}

func checkVMClusterNotPrimary(m *Mesh, report func(string, string, ...any)) {
	var primaries []string
	for _, c := range m.Spec.Clusters {
		if c.IsPrimary() {
			primaries = append(primaries, c.Name)
		}
	}
	for i, g := range m.Spec.WorkloadGroups {
		c := m.Cluster(g.Cluster)
		switch {
		case c == nil:
			msg := fmt.Sprintf("cluster %q is not in the mesh (primaries: %s)", g.Cluster, strings.Join(primaries, ", "))
			if s := suggest(g.Cluster, primaries); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			report(groupPath(i, "cluster"), "%s", msg)
		case !c.IsPrimary():
			report(groupPath(i, "cluster"), "workload group %q registers with remote cluster %q, which runs no istiod; register it with a primary (%s), such as its control plane %q", g.Name, c.Name, strings.Join(primaries, ", "), c.ControlPlane)
		}
	}
}

func checkVMUndeclaredNetwork(m *Mesh, report func(string, string, ...any)) {
	var names []string
	for _, n := range m.Spec.Networks {
		names = append(names, n.Name)
	}
	for i, g := range m.Spec.WorkloadGroups {
		if slices.Contains(names, g.Network) {
			continue
		}
		msg := fmt.Sprintf("network %q is not declared (declared: %s)", g.Network, strings.Join(names, ", "))
		if s := suggest(g.Network, names); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		report(groupPath(i, "network"), "%s", msg)
	}
}

func checkDuplicateWorkloadGroup(m *Mesh, report func(string, string, ...any)) {
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

func checkVMInstanceAddress(m *Mesh, report func(string, string, ...any)) {
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

func checkVMProbe(m *Mesh, report func(string, string, ...any)) {
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

func checkVMServiceNotRun(m *Mesh, report func(string, string, ...any)) {
	for i, g := range m.Spec.WorkloadGroups {
		var runs []string
		found := false
		for k := range m.Spec.Services {
			s := &m.Spec.Services[k]
			if s.Name == g.Name && s.Namespace == g.Namespace {
				found = true
				runs = append(runs, m.ServiceClusters(s)...)
			}
		}
		if found && m.Cluster(g.Cluster) != nil && m.SharedNamespace(g.Namespace) != nil && !slices.Contains(runs, g.Cluster) {
			report(groupPath(i, "cluster"), "workload group %q backs service %s/%s, which spec.services does not run in %q, where the group registers (runs in: %s); add %q to the service's clusters",
				g.Name, g.Namespace, g.Name, g.Cluster, strings.Join(runs, ", "), g.Cluster)
		}
	}
}
