package compiler

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

func init() { Rules = append(Rules, vmRules...) }

// The cross-cluster rules of virtual machines (MC050–MC059), appended to
// Rules: their IDs follow every other rule's.
var vmRules = []Rule{
	{
		ID: "MC050", Name: "vm-istiod-hostname",
		Protects: "A primary that VMs register with whose istiod is reached at a hostname (eastWestGateway.address or istiod.address): the VMs' hosts file maps istiod's name to an IP.",
		Symptom:  "/etc/hosts cannot alias one name to another: the VM's sidecar resolves istiod.istio-system.svc to nothing, never gets certificates or configuration, and istio.log repeats connection errors to istiod.",
		check:    checkVMIstiodHostname,
	},
	{
		ID: "MC051", Name: "vm-istiod-unreachable",
		Protects: "A workload group whose primary has no address VMs reach istiod at: no east-west gateway with an address, no istiod.address (learnAddress is not enough: the VMs' hosts file is rendered with the address).",
		Symptom:  "The VMs cannot reach istiod on 15012: the sidecar never bootstraps, and the WorkloadGroup's VMs never appear as WorkloadEntries.",
		check:    checkVMIstiodUnreachable,
	},
	{
		ID: "MC052", Name: "vm-namespace-not-shared",
		Protects: "A workload group in a namespace the mesh does not share (when spec.namespaces lists any), in a shared namespace that does not exist in its cluster, or in a namespace Kubernetes or Istio owns.",
		Symptom:  "Namespace sameness breaks for the VMs: their identity (spiffe://.../ns/<namespace>/sa/<account>) names a namespace that means something else elsewhere, so authorization policies and the services they join do not match across clusters.",
		check:    checkVMNamespace,
	},
	{
		ID: "MC053", Name: "vm-port-conflict",
		Protects: "A workload group port named differently from every port of the shared Service of the group's name and namespace: WorkloadEntry ports are keyed by Service port name.",
		Symptom:  "Traffic to the Service's port goes to the port of the same number on the VM, not the one declared, or the declared port is never used: requests fail with connection refused or reach the wrong listener.",
		check:    checkVMPortConflict,
	},
	{
		ID: "MC054", Name: "vm-cluster-not-primary",
		Protects: "A workload group whose cluster is not a primary of the mesh: an unknown name, or a remote (it runs no istiod, and its API server's WorkloadGroups are not read as config).",
		Symptom:  "No istiod reads the WorkloadGroup: the VMs connect, are not auto-registered, and get no workload identity or configuration.",
		check:    checkVMClusterNotPrimary,
	},
	{
		ID: "MC055", Name: "vm-undeclared-network",
		Protects: "A workload group on a network that is not declared, usually a typo.",
		Symptom:  "Istio believes the label: the VMs' endpoints are put on a network of their own that no gateway serves, so other networks drop them and requests to the VMs fail with 503 no healthy upstream.",
		check:    checkVMUndeclaredNetwork,
	},
	{
		ID: "MC056", Name: "duplicate-workload-group",
		Protects: "A workload group declared twice (name and namespace), a port name or VM instance name used twice, or two instances with one address on one network.",
		Symptom:  "The later object replaces the earlier one when applied: a VM or port silently disappears from the mesh, or two WorkloadEntries send one service's traffic to the same VM twice.",
		check:    checkDuplicateWorkloadGroup,
	},
	{
		ID: "MC057", Name: "vm-instance-address",
		Protects: "A VM instance address that is not an IP, or one no other machine can reach (loopback, unspecified, link-local, multicast).",
		Symptom:  "A WorkloadEntry with a hostname needs DNS resolution Services do not do, and an unroutable address works nowhere: requests to the VM time out.",
		check:    checkVMInstanceAddress,
	},
	{
		ID: "MC058", Name: "vm-probe",
		Protects: "A workload group probe with neither or both of httpGet and tcpSocket.",
		Symptom:  "istiod rejects or ignores the probe: auto-registered VMs are never marked healthy (no traffic), or a VM is marked healthy by the check that was not meant.",
		check:    checkVMProbe,
	},
	{
		ID: "MC059", Name: "vm-service-not-run",
		Protects: "A workload group named like a shared service registering with a cluster that, by spec.services, does not run it: the cluster gets a stub Service without a selector, or none.",
		Symptom:  "No Service in the cluster holding the WorkloadEntries selects the VMs: they are endpoints of no service, and requests to it never reach them (503 no healthy upstream where only VMs run it).",
		check:    checkVMServiceNotRun,
	},
}

func groupPath(i int, field string) string {
	p := fmt.Sprintf("spec.workloadGroups[%d]", i)
	if field != "" {
		p += "." + field
	}
	return p
}

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

func checkVMNamespace(m *Mesh, report func(string, string, ...any)) {
	var declared []string
	nsByName := map[string]*SharedNamespace{}
	for i := range m.Spec.Namespaces {
		n := &m.Spec.Namespaces[i]
		if _, dup := nsByName[n.Name]; !dup {
			nsByName[n.Name] = n
			declared = append(declared, n.Name)
		}
	}
	for i, g := range m.Spec.WorkloadGroups {
		path := groupPath(i, "namespace")
		if slices.Contains(reservedNamespaces, g.Namespace) {
			report(path, "namespace %q belongs to %s in every cluster; put VMs in an application namespace", g.Namespace, owner(g.Namespace))
			continue
		}
		if len(declared) == 0 {
			continue // the mesh shares no namespace; workload-groups.yaml creates it
		}
		ns := nsByName[g.Namespace]
		if ns == nil {
			msg := fmt.Sprintf("workload group %q is in namespace %q, which spec.namespaces does not share (shared: %s)", g.Name, g.Namespace, strings.Join(declared, ", "))
			if s := suggest(g.Namespace, declared); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			report(path, "%s", msg)
			continue
		}
		if in := orAll(ns.Clusters, m.ClusterNames()); m.Cluster(g.Cluster) != nil && !slices.Contains(in, g.Cluster) {
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
	nsByName := map[string]*SharedNamespace{}
	for i := range m.Spec.Namespaces {
		if _, dup := nsByName[m.Spec.Namespaces[i].Name]; !dup {
			nsByName[m.Spec.Namespaces[i].Name] = &m.Spec.Namespaces[i]
		}
	}
	all := m.ClusterNames()
	for i, g := range m.Spec.WorkloadGroups {
		var runs []string
		found := false
		for k := range m.Spec.Services {
			s := &m.Spec.Services[k]
			if s.Name == g.Name && s.Namespace == g.Namespace {
				found = true
				runs = append(runs, serviceClusters(s, nsByName[s.Namespace], all)...)
			}
		}
		if found && m.Cluster(g.Cluster) != nil && nsByName[g.Namespace] != nil && !slices.Contains(runs, g.Cluster) {
			report(groupPath(i, "cluster"), "workload group %q backs service %s/%s, which spec.services does not run in %q, where the group registers (runs in: %s); add %q to the service's clusters",
				g.Name, g.Namespace, g.Name, g.Cluster, strings.Join(runs, ", "), g.Cluster)
		}
	}
}
