package render

import (
	"fmt"
	"slices"
	"strings"

	"meshc.dev/meshc/mesh"
)

// Names of the files a group's VMs are given.
const (
	// WorkloadGroupsFile, in the cluster's manifests/, holds each group's
	// namespace (when the mesh shares none), service account, WorkloadGroup
	// and WorkloadEntries.
	WorkloadGroupsFile = "workload-groups.yaml"
	VMRootCertFile     = "root-cert.pem"
	VMTokenFile        = "istio-token"
	// VMInstallScript is run on each VM, from the group's gathered files.
	VMInstallScript = "install.sh"
	// TokenAudience is the audience istiod's CA accepts tokens for.
	TokenAudience = "istio-ca"
)

// vmDetails are the lines the mesh's picture gives a primary for the VM
// groups that register with it: the picture has no VM nodes, so a network
// of VMs only would otherwise look empty for no reason. Past two groups,
// one line counts them, so the picture stays readable at any size.
func vmDetails(m *mesh.Mesh, c *mesh.Cluster) []string {
	groups := m.WorkloadGroups(c.Name)
	if len(groups) > 2 {
		var networks []string
		for _, g := range groups {
			if !slices.Contains(networks, g.Network) {
				networks = append(networks, g.Network)
			}
		}
		return []string{fmt.Sprintf("%d VM groups on %s", len(groups), strings.Join(networks, ", "))}
	}
	var out []string
	for _, g := range groups {
		out = append(out, fmt.Sprintf("VMs %s/%s on %s", g.Namespace, g.Name, g.Network))
	}
	return out
}
