package render

import (
	"fmt"
	"path"
	"strings"

	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/templates"
)

// Phases of a mesh whose intermediates cert-manager issues: cert-manager
// is checked before anything is applied, and every cluster's cacerts is
// compared with the mesh's root before any istiod starts.
const (
	// PhaseCertManager checks that every cluster runs a ready
	// cert-manager. meshc checks and does not install it: the platform
	// owns cert-manager, its version and its configuration, as it owns the
	// Gateway API CRDs.
	PhaseCertManager = "cert-manager"
	// PhaseVerifyRoot waits for each cluster's cacerts Certificate and
	// compares the ca.crt cert-manager wrote with the mesh's root.
	PhaseVerifyRoot = "verify-root"
)

// certManagerCheckSteps check, in every cluster, that cert-manager's CRDs
// are there and its webhook is ready, and stop the plan with what to do
// when not.
func certManagerCheckSteps(m *mesh.Mesh) []Step {
	if !m.UsesCertManager() {
		return nil
	}
	ns := m.Spec.CA.CertManager.Namespace
	var steps []Step
	for _, c := range m.Spec.Clusters {
		ctx := templates.Shell(c.Context)
		steps = append(steps, Step{Cluster: c.Name, Context: c.Context, Command: fmt.Sprintf(
			"{ kubectl --context=%s get crd %s >/dev/null && kubectl --context=%s -n %s rollout status deployment/%s --timeout=120s >/dev/null; } || { echo %s >&2; exit 1; }",
			ctx, strings.Join(mesh.CertManagerCRDs, " "), ctx, templates.Shell(ns), mesh.CertManagerWebhook,
			templates.Shell(fmt.Sprintf("plan: cluster %s has no ready cert-manager in namespace %s (CRDs %s, deployment %s): install it (PLAN.md, phase %s) and run the plan again",
				c.Name, ns, strings.Join(mesh.CertManagerCRDs, ", "), mesh.CertManagerWebhook, PhaseCertManager)))})
	}
	return steps
}

// certManagerIssueSteps apply, in every cluster, the Issuer and the
// Certificate of its cacerts.
func certManagerIssueSteps(placements []*mesh.Placement) []Step {
	var steps []Step
	for _, p := range placements {
		if p == nil {
			continue
		}
		for _, a := range ArtifactsFor(p) {
			if a.Phase == PhaseCACerts {
				c := p.Cluster
				steps = append(steps, Step{Cluster: c.Name, Context: c.Context, Command: applyCommand(a, p), applies: appliedFiles(a, p)})
			}
		}
	}
	return steps
}

// pemLines and joined reduce PEM to the base64 of its DER: the lines
// between BEGIN and END, without line breaks, so two encodings of one
// certificate compare equal however they wrap.
const (
	pemLines = "grep -v -e '^-----'"
	joined   = "tr -d ' \\r\\n'"
)

// verifyRootSteps wait, in every cluster, for cert-manager to issue the
// certificate its issuer signs first (cacerts; with istio-csr, istiod's
// serving certificate), and compare its ca.crt with the mesh's root (the
// cluster's ca/root-cert.pem): a cluster whose issuer chains to another
// root stops the plan before any istiod starts.
func verifyRootSteps(m *mesh.Mesh) []Step {
	if !m.UsesCertManager() {
		return nil
	}
	certificate, secret := caRootCheck(m)
	var steps []Step
	for _, c := range m.Spec.Clusters {
		ctx := templates.Shell(c.Context)
		root := templates.Shell(path.Join(c.Name, mesh.CADir, mesh.RootCertFile))
		// applies: a change plan compares again when the root changes, and
		// when what issues under it does (another Issuer, CA or duration:
		// cert-manager issues anew, maybe under another root).
		applies := []string{path.Join(c.Name, mesh.CADir, mesh.RootCertFile), path.Join(c.Name, mesh.CADir, mesh.CAIssuerFile)}
		if m.UsesIstioCSR() {
			applies = append(applies, path.Join(c.Name, mesh.CADir, IstioCSRValuesFile))
		}
		steps = append(steps, Step{Cluster: c.Name, Context: c.Context, applies: applies, Command: fmt.Sprintf(
			`kubectl --context=%[1]s -n %[2]s wait --for=condition=Ready certificate.cert-manager.io/%[3]s --timeout=300s >/dev/null || { echo %[4]s >&2; exit 1; }; [ "$(kubectl --context=%[1]s -n %[2]s get secret %[9]s -o 'jsonpath={.data.ca\.crt}' | base64 --decode | %[5]s | %[6]s)" = "$(%[5]s %[7]s | %[6]s)" ] || { echo %[8]s >&2; exit 1; }`,
			ctx, IstioNamespace, certificate,
			templates.Shell(fmt.Sprintf("plan: cluster %s: Certificate %s/%s is not Ready: kubectl describe certificate says why", c.Name, IstioNamespace, certificate)),
			pemLines, joined, root,
			templates.Shell(fmt.Sprintf("plan: cluster %s: ca.crt of %s/%s is not the mesh's root (%s): its issuer chains to another root, and the other clusters would not trust its workloads [MC066]",
				c.Name, IstioNamespace, secret, path.Join(c.Name, mesh.CADir, mesh.RootCertFile))), secret)})
	}
	return steps
}

// rootCertSource is, as a shell word, the file holding the mesh's root
// that the vm-files phase gives the cluster's VMs: meshc certs' copy in
// CERTS_DIR, or with cert-manager the rendered ca/root-cert.pem.
func rootCertSource(p *mesh.Placement) string {
	if p.UsesCertManager() {
		return templates.Shell(path.Join(p.Cluster.Name, mesh.CADir, mesh.RootCertFile))
	}
	return `"${` + CertsDirVar + `}/` + VMRootCertFile + `"`
}

// needsCertsDir reports whether the plan reads or writes CERTS_DIR: for
// meshc's cacerts files, and for the VMs' files (their token is a
// credential, kept out of the rendered tree).
func needsCertsDir(m *mesh.Mesh) bool { return !m.UsesCertManager() || len(m.Spec.WorkloadGroups) > 0 }

// PlanCertManager is, in a plan, the cert-manager that issues the
// clusters' cacerts and its Issuer: what PLAN.md tells the user to prepare.
type PlanCertManager struct {
	Namespace string `json:"namespace"`
	Issuer    string `json:"issuer"`
	// SecretName is the CA Secret of a CA issuer; Vault and Role those of
	// a Vault issuer.
	SecretName string `json:"secretName,omitempty"`
	Vault      string `json:"vault,omitempty"`
	Role       string `json:"role,omitempty"`
	// MovesRoot is whether the mesh moves to its root from
	// spec.ca.previousRoot.
	MovesRoot bool `json:"movesRoot,omitempty"`
}

func planCertManager(m *mesh.Mesh) *PlanCertManager {
	if !m.UsesCertManager() {
		return nil
	}
	cm := m.Spec.CA.CertManager
	p := &PlanCertManager{Namespace: cm.Namespace, Issuer: cm.Issuer.Name, MovesRoot: m.MovesRoot()}
	if cm.Issuer.CA != nil {
		p.SecretName = cm.Issuer.CA.SecretName
	}
	if v := cm.Issuer.Vault; v != nil {
		p.Vault, p.Role = v.Server, v.Role
	}
	return p
}
