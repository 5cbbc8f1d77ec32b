package rules

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
)

func checkDuplicateCluster(m *mesh.Mesh, report func(string, string, ...any)) {
	first := map[string]int{}
	for i, c := range m.Spec.Clusters {
		if j, ok := first[c.Name]; ok {
			report(clusterPath(i, "name"), "cluster %q is already defined as %s; cluster names must be unique", c.Name, clusterPath(j, ""))
			continue
		}
		first[c.Name] = i
	}
}

func checkDuplicateNetwork(m *mesh.Mesh, report func(string, string, ...any)) {
	first := map[string]int{}
	for i, n := range m.Spec.Networks {
		p := specPath("networks", i, "name")
		if j, ok := first[n.Name]; ok {
			report(p, "network %q is already declared as spec.networks[%d]; network names must be unique", n.Name, j)
			continue
		}
		first[n.Name] = i
	}
}

func checkUndeclaredNetwork(m *mesh.Mesh, report func(string, string, ...any)) {
	declared := map[string]bool{}
	var names []string
	for _, n := range m.Spec.Networks {
		if !declared[n.Name] {
			names = append(names, n.Name)
		}
		declared[n.Name] = true
	}
	for i, c := range m.Spec.Clusters {
		if !declared[c.Network] {
			report(clusterPath(i, "network"), "network %q is not declared (declared: %s)", c.Network, diag.ListNames(names), diag.Suggested(diag.Suggest(c.Network, names)))
		}
	}
}

func checkUnusedLearnAddress(m *mesh.Mesh, report func(string, string, ...any)) {
	for i, c := range m.Spec.Clusters {
		g := c.EastWestGateway
		if g == nil || !g.LearnAddress {
			continue
		}
		path := clusterPath(i, "eastWestGateway.learnAddress")
		switch {
		case g.Address != "":
			report(path, "cluster %q gives eastWestGateway.address and learnAddress; drop learnAddress now that the address is known", c.Name)
		case !c.IsPrimary():
			report(path, "remote cluster %q runs no istiod, so no cluster waits for its gateway's address; drop learnAddress", c.Name)
		case c.Istiod != nil:
			report(path, "primary %q gives istiod.address, which its remotes use instead of the gateway's; drop learnAddress", c.Name)
		case len(m.Remotes(c.Name)) == 0:
			report(path, "primary %q serves no remotes, so nothing waits for its gateway's address; drop learnAddress", c.Name)
		}
	}
}

func checkUnusedNetwork(m *mesh.Mesh, report func(string, string, ...any)) {
	used, declared := map[string]bool{}, map[string]bool{}
	for _, n := range m.Spec.Networks {
		declared[n.Name] = true
	}
	for _, c := range m.Spec.Clusters {
		used[c.Network] = true
		if !declared[c.Network] {
			return // MC003 names the typo; the unused network is likely the one meant
		}
	}
	// A network of VMs only is used (MC055 names a VM group's typo).
	for _, g := range m.Spec.WorkloadGroups {
		used[g.Network] = true
		if !declared[g.Network] {
			return
		}
	}
	for i, n := range m.Spec.Networks {
		if !used[n.Name] {
			if len(m.Spec.WorkloadGroups) > 0 {
				report(specPath("networks", i, "name"), "network %q is declared but no cluster or VM sits on it (remove it, or set it as a cluster's or workload group's network)", n.Name)
				continue
			}
			report(specPath("networks", i, "name"), "network %q is declared but no cluster sits on it (remove it, or set it as a cluster's network)", n.Name)
		}
	}
}

func checkRoleTopologyMismatch(m *mesh.Mesh, report func(string, string, ...any)) {
	if m.Spec.Topology != mesh.MultiPrimary {
		return
	}
	for i, c := range m.Spec.Clusters {
		if c.Role != mesh.RolePrimary {
			report(clusterPath(i, "role"), "cluster %q is a %s, but topology %q runs istiod in every cluster; make it a primary or use topology %q", c.Name, c.Role, mesh.MultiPrimary, mesh.PrimaryRemote)
		}
	}
}

func checkRemoteWithoutPrimary(m *mesh.Mesh, report func(string, string, ...any)) {
	var primaries []string
	roles := map[string]string{}
	for _, c := range m.Spec.Clusters {
		if _, dup := roles[c.Name]; !dup {
			roles[c.Name] = c.Role
		}
		if c.IsPrimary() {
			primaries = append(primaries, c.Name)
		}
	}
	hint := "primaries: " + diag.ListNames(primaries)
	if len(primaries) == 0 {
		hint = "the mesh has no primary; make at least one cluster a primary"
	}
	for i, c := range m.Spec.Clusters {
		if c.Role != mesh.RoleRemote {
			continue
		}
		switch role, ok := roles[c.ControlPlane]; {
		case c.ControlPlane == "":
			report(clusterPath(i, ""), "remote cluster %q must name its primary in controlPlane (%s)", c.Name, hint)
		case c.ControlPlane == c.Name:
			report(clusterPath(i, "controlPlane"), "remote cluster %q names itself as its control plane; name a primary (%s)", c.Name, hint)
		case !ok:
			report(clusterPath(i, "controlPlane"), "control plane %q is not a cluster of this mesh (%s)", c.ControlPlane, hint, diag.Suggested(diag.Suggest(c.ControlPlane, primaries)))
		case role != mesh.RolePrimary:
			report(clusterPath(i, "controlPlane"), "control plane %q is a remote, not a primary; a remote must name a primary (%s)", c.ControlPlane, hint)
		}
	}
}

func checkPrimaryWithControlPlane(m *mesh.Mesh, report func(string, string, ...any)) {
	for i, c := range m.Spec.Clusters {
		if c.IsPrimary() && c.ControlPlane != "" {
			report(clusterPath(i, "controlPlane"), "primary cluster %q runs its own istiod; controlPlane is only for remotes (remove it, or set role: remote)", c.Name)
		}
	}
}

func checkMissingEastWestGateway(m *mesh.Mesh, report func(string, string, ...any)) {
	if !m.MultiNetwork() {
		return
	}
	hosts := map[string][]string{}
	covered := map[string]bool{}
	for _, c := range m.Spec.Clusters {
		hosts[c.Network] = append(hosts[c.Network], c.Name)
		if c.EastWestGateway != nil {
			covered[c.Network] = true
		}
	}
	seen := map[string]bool{}
	for i, n := range m.Spec.Networks {
		if seen[n.Name] || len(hosts[n.Name]) == 0 || covered[n.Name] {
			continue
		}
		seen[n.Name] = true
		report(specPath("networks", i, "name"),
			"network %q hosts %s but none has an eastWestGateway; other networks reach its workloads only through one (add eastWestGateway: {} to one of them)",
			n.Name, diag.Plural("cluster", hosts[n.Name]))
	}
}

func checkIstiodUnreachable(m *mesh.Mesh, report func(string, string, ...any)) {
	for i, c := range m.Spec.Clusters {
		rs := m.Remotes(c.Name)
		if !c.IsPrimary() || len(rs) == 0 || c.Istiod != nil {
			continue
		}
		names := make([]string, len(rs))
		for k, r := range rs {
			names[k] = r.Name
		}
		switch {
		case c.EastWestGateway == nil:
			report(clusterPath(i, ""), "primary %q serves %s but has no eastWestGateway to expose istiod through; add eastWestGateway with its address, or give istiod.address",
				c.Name, diag.Plural("remote", names))
		case c.EastWestGateway.Address == "" && !c.EastWestGateway.LearnAddress:
			report(clusterPath(i, "eastWestGateway"), "primary %q serves %s, which reach istiod through this gateway: set eastWestGateway.address to its external IP or hostname (kubectl get svc istio-eastwestgateway -n istio-system), give istiod.address, or set eastWestGateway.learnAddress: true to read it after install",
				c.Name, diag.Plural("remote", names))
		}
	}
}

func checkInvalidAddress(m *mesh.Mesh, report func(string, string, ...any)) {
	defer checkPeerGatewayAddresses(m, report)
	for i, c := range m.Spec.Clusters {
		if c.EastWestGateway != nil && c.EastWestGateway.Address != "" {
			if msg := addressProblem(c.EastWestGateway.Address); msg != "" {
				report(clusterPath(i, "eastWestGateway.address"), "%s", msg)
			}
		}
		if c.Istiod != nil {
			if msg := addressProblem(c.Istiod.Address); msg != "" {
				report(clusterPath(i, "istiod.address"), "%s", msg)
			}
		}
	}
}

// addressProblem explains why addr cannot be reached from another cluster,
// or returns "" when it can.
func addressProblem(addr string) string {
	looksIP := strings.Contains(addr, ":") || strings.Trim(addr, "0123456789.") == ""
	if !looksIP {
		if addr == "localhost" || strings.HasSuffix(addr, ".localhost") {
			return fmt.Sprintf("%s is a loopback name; other clusters cannot reach it", diag.Quote(addr))
		}
		return ""
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return fmt.Sprintf("%s is not a valid IP address", diag.Quote(addr))
	}
	switch {
	case ip.IsLoopback():
		return fmt.Sprintf("%s is a loopback address; other clusters cannot reach it", addr)
	case ip.IsUnspecified():
		return fmt.Sprintf("%s is the unspecified address; give the address other clusters dial", addr)
	case ip.IsLinkLocalUnicast() || ip.IsMulticast():
		return fmt.Sprintf("%s is not routable between clusters", addr)
	}
	return ""
}

func checkUnreachableAPIServer(m *mesh.Mesh, report func(string, string, ...any)) {
	for i, c := range m.Spec.Clusters {
		if c.APIServer == "" {
			continue
		}
		u, err := url.Parse(c.APIServer)
		if err != nil || u.Hostname() == "" {
			report(clusterPath(i, "apiServer"), "%s is not a URL with a host", diag.Quote(c.APIServer))
			continue
		}
		if msg := addressProblem(u.Hostname()); msg != "" {
			report(clusterPath(i, "apiServer"), "%s: %s (kind and minikube kubeconfigs name the local machine; use the API server's address on a network the other clusters reach)", diag.Quote(c.APIServer), msg)
		}
	}
}

func checkUnusedIstiodAddress(m *mesh.Mesh, report func(string, string, ...any)) {
	// While some remote names no valid primary (MC005), which primary it
	// was meant for is unknown: do not call any primary's address unused.
	primaries := map[string]bool{}
	for _, c := range m.Spec.Clusters {
		primaries[c.Name] = primaries[c.Name] || c.IsPrimary()
	}
	orphans := false
	for _, c := range m.Spec.Clusters {
		orphans = orphans || (!c.IsPrimary() && !primaries[c.ControlPlane])
	}
	for i, c := range m.Spec.Clusters {
		switch {
		case c.Istiod == nil:
		case !c.IsPrimary():
			report(clusterPath(i, "istiod.address"), "remote cluster %q runs no istiod, so istiod.address is unused; remotes reach their primary's istiod at the primary's address (remove it here)", c.Name)
		case len(m.Remotes(c.Name)) == 0 && len(m.WorkloadGroups(c.Name)) == 0 && !orphans: // VMs dial it too
			report(clusterPath(i, "istiod.address"), "primary %q serves no remotes, so istiod.address is unused (only remotes dial a primary's istiod; remove it, or name %q as a remote's controlPlane)", c.Name, c.Name)
		}
	}
}

func checkDuplicateContext(m *mesh.Mesh, report func(string, string, ...any)) {
	first := map[string]string{}
	names := map[string]bool{}
	for i, c := range m.Spec.Clusters {
		if names[c.Name] {
			continue // MC001 already reports the duplicate cluster
		}
		names[c.Name] = true
		if other, ok := first[c.Context]; ok {
			report(clusterPath(i, "context"), "cluster %q uses kubeconfig context %s, already used by cluster %q; each cluster needs its own context", c.Name, diag.Quote(c.Context), other)
			continue
		}
		first[c.Context] = c.Name
	}
}
