package render

import (
	"fmt"
	"path"
	"strings"

	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/templates"
)

// vmBundleDir is where the plan gathers a group's files, under CERTS_DIR:
// the token is a credential, so it stays with the CA keys, out of the
// rendered tree (which is often committed).
func vmBundleDir(g *mesh.WorkloadGroup) string {
	return "${" + CertsDirVar + "}/" + path.Join(g.Cluster, mesh.VMDir, g.Namespace, g.Name)
}

// vmFileSteps gathers, per group, what its VMs need in one directory: the
// rendered files, the mesh's root certificate (rootCertSource), and a
// token for the group's service account, the one file only the cluster
// can give (audience istio-ca, one hour: it only bootstraps the sidecar,
// which then renews its certificate itself). Names are DNS labels, safe
// inside double quotes. The three commands are one step in a subshell: bash's
// set -e ignores a failure inside an && list, but not a subshell that
// fails, so in plan.sh a failing cp stops the script.
func vmFileSteps(placements []*mesh.Placement) []Step {
	var steps []Step
	for _, p := range placements {
		if p == nil || !p.ServesVMs() {
			continue
		}
		c := p.Cluster
		for _, g := range p.WorkloadGroups() {
			dir := vmBundleDir(g)
			var files, applies []string
			for _, f := range GroupFiles() {
				rel := path.Join(g.Dir(), f.Name)
				files = append(files, templates.Shell(rel))
				applies = append(applies, rel)
			}
			steps = append(steps, Step{Cluster: c.Name, Context: c.Context, applies: applies, Command: fmt.Sprintf(
				`(install -d -m 0700 "%[1]s" && cp %[2]s %[3]s "%[1]s/" && kubectl --context=%[4]s -n %[5]s create token %[6]s --audience=%[7]s --duration=1h > "%[1]s/%[8]s")`,
				dir, strings.Join(files, " "), rootCertSource(p), templates.Shell(c.Context),
				templates.Shell(g.Namespace), templates.Shell(g.ServiceAccount), TokenAudience, VMTokenFile)})
		}
	}
	return steps
}
