package render

import (
	"fmt"
	"path"
	"slices"

	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/templates"
)

// Phases of a change plan that moves the clusters' intermediates from
// meshc's files to cert-manager (caMove).
const (
	// PhaseRunningRoot checks that every cluster's cacerts holds the root
	// the new Mesh says the workloads run under (spec.ca.previousRoot, or
	// root when the root does not move), before anything changes.
	PhaseRunningRoot = "running-root"
	// PhaseTrustRoots re-applies the control planes with both roots in
	// meshConfig.caCertificates, before any certificate of the new root
	// is issued.
	PhaseTrustRoots = "trust-roots"
	// PhaseTrustWorkloads restarts the workloads so every sidecar runs
	// with PROXY_CONFIG_XDS_AGENT and takes both roots from istiod.
	PhaseTrustWorkloads = "trust-workloads"
	// PhaseReplaceCACerts deletes the cacerts Secret of meshc certs, so
	// that cert-manager writes its own (another type of Secret).
	PhaseReplaceCACerts = "replace-cacerts"
	// PhaseRenewWorkloads restarts the workloads once istiod signs with
	// cert-manager's intermediate, so none holds a certificate of the
	// previous root when a later change drops it.
	PhaseRenewWorkloads = "renew-workloads"
	// PhaseForgetRoot restarts the workloads when a root's move ends, so
	// no sidecar keeps trusting the previous root.
	PhaseForgetRoot = "forget-root"
)

// caMove is a change that moves the clusters' intermediates from meshc's
// files (issuer meshc) to cert-manager. Istio's own code sets its order:
//
//   - istiod reloads a changed cacerts only under the same root bytes, or
//     with ISTIO_MULTIROOT_MESH a root bundle that grows or shrinks
//     (handleEvent, pilot/pkg/bootstrap/istio_ca.go); a move from one root
//     to another, or from one Secret form to the other, takes a restart;
//   - cert-manager keeps the type of a Secret it finds (an Opaque cacerts
//     stays Opaque, with meshc's key beside its own): the plan deletes
//     meshc's first, by label and type, so cert-manager creates its own;
//   - a sidecar trusts the root of its last certificate and, with
//     PROXY_CONFIG_XDS_AGENT (read at injection: pods restart to get it),
//     the roots istiod's meshConfig.caCertificates adds with
//     ISTIO_MULTIROOT_MESH (PCDS, merged in its secret cache): while the
//     root moves, every sidecar must trust both before any certificate of
//     the new root exists, and until none of the old one is left.
type caMove struct {
	old, new *mesh.Mesh
	// root is whether the root changes (spec.ca.previousRoot).
	root bool
	// stays are the clusters of old that new keeps: those that run under
	// meshc's cacerts.
	stays []*mesh.Cluster
}

// caMoveOf returns the move from old to new, or nil when the issuer does
// not move from meshc to cert-manager.
func caMoveOf(old, new *mesh.Mesh) *caMove {
	if old.Spec.CA.Issuer != mesh.IssuerMeshc || new.Spec.CA.Issuer != mesh.IssuerCertManager {
		return nil
	}
	mv := &caMove{old: old, new: new, root: new.MovesRoot()}
	for i := range new.Spec.Clusters {
		if c := &new.Spec.Clusters[i]; old.Cluster(c.Name) != nil {
			mv.stays = append(mv.stays, c)
		}
	}
	return mv
}

// caChangeAllowed refuses a change plan between issuers and roots that
// meshc does not move: only from meshc's files to cert-manager (caMove),
// and the end of a root's move (previousRoot dropped).
func caChangeAllowed(old, new *mesh.Mesh) error {
	o, n := old.Spec.CA, new.Spec.CA
	switch {
	case o.Issuer == mesh.IssuerMeshc && n.Issuer == mesh.IssuerCertManager:
		if old.Spec.Istio.Version != new.Spec.Istio.Version {
			return refuse(new, "spec.istio.version", ChangeCARule, "the clusters' intermediates move from issuer meshc to cert-manager while Istio moves from %s to %s: the move re-applies the control planes before anything else, with the running version; upgrade Istio with a change plan of its own, before or after", old.Spec.Istio.Version, new.Spec.Istio.Version)
		}
		return nil
	case o.Issuer != n.Issuer:
		return refuse(new, "spec.ca.issuer", ChangeCARule, "the clusters' intermediate CAs move from issuer %s to %s: meshc plans only the move from meshc to cert-manager (%s); docs/certs.md says how to move by hand, then plan from a Mesh that names the issuer in use", o.Issuer, n.Issuer, issuerMoveWhy(o.Issuer, n.Issuer))
	case n.PreviousRoot != nil && (o.PreviousRoot == nil || rootDER(o.PreviousRoot.PEM) != rootDER(n.PreviousRoot.PEM)):
		return refuse(new, "spec.ca.previousRoot", ChangeCARule, "previousRoot is new or changes while the issuer stays %s: a root moves with the issuer, from meshc's files to cert-manager; to move cert-manager's root, follow docs/certs.md by hand", n.Issuer)
	case o.Root != nil && n.Root != nil && rootDER(o.Root.PEM) != rootDER(n.Root.PEM):
		return refuse(new, "spec.ca.root", ChangeCARule, "the root changes: workloads with certificates of the old root would stop trusting those of the new one mid-change; meshc moves a root only with the issuer, from meshc's files to cert-manager (spec.ca.previousRoot); docs/certs.md says how to move cert-manager's root by hand")
	}
	return nil
}

// issuerMoveWhy says why a move between two issuers is not planned.
func issuerMoveWhy(from, to string) string {
	switch {
	case from == mesh.IssuerIstioCSR || to == mesh.IssuerIstioCSR:
		return "istio-csr takes istiod's CA server off, and istio-csr must be installed before Istio: moving to or from it reinstalls every control plane while workloads hold certificates of the other signer"
	case from == mesh.IssuerCertManager && to == mesh.IssuerMeshc:
		return "back to meshc's files, cert-manager's Certificate would reissue cacerts over them until it is deleted, and meshc certs' root is not one the Mesh can name"
	}
	return "no plan is known to be safe"
}

// rootDER is the DER of the certificates of a PEM bundle, as one string,
// so two encodings of one root compare equal.
func rootDER(pemText string) string {
	var s string
	for _, c := range mesh.RootCertificates(pemText) {
		s += string(c.Raw)
	}
	return s
}

// arrange puts the move's phases into the change plan's phases (new's
// phases with the steps that must run, in planPhases' order): before
// cacerts, the check of the running root; when the root moves, the control
// planes of the clusters that stay with both roots and a restart of their
// workloads; and the deletion of meshc's cacerts.
func (mv *caMove) arrange(phases []Phase) []Phase {
	var trust []Step
	if mv.root {
		for i, ph := range phases {
			if ph.ID != PhasePrimaries && ph.ID != PhaseRemotes {
				continue
			}
			var rest []Step
			for _, s := range ph.Steps {
				if mv.old.Cluster(s.Cluster) != nil {
					trust = append(trust, s)
				} else {
					rest = append(rest, s)
				}
			}
			phases[i].Steps = rest
		}
	}
	var before []Phase
	before = append(before, Phase{ID: PhaseRunningRoot, Title: "Check that every cluster's cacerts holds the root its workloads run under", Steps: mv.runningRootSteps()})
	if mv.root {
		before = append(before,
			Phase{ID: PhaseTrustRoots, Title: "Have every control plane hand out the previous and the new root", Steps: trust},
			Phase{ID: PhaseTrustWorkloads, Title: "Restart the workloads, so every sidecar trusts both roots", Steps: mv.restartWorkloadSteps()})
	}
	before = append(before, Phase{ID: PhaseReplaceCACerts, Title: "Delete meshc certs' cacerts, so cert-manager writes its own", Steps: mv.replaceSteps()})
	i := slices.IndexFunc(phases, func(ph Phase) bool { return ph.ID == PhaseCACerts })
	return slices.Concat(phases[:i], before, phases[i:])
}

// expectedRoot is the rendered file of the root the running workloads'
// certificates chain to, in cluster c's directory.
func (mv *caMove) expectedRoot(c *mesh.Cluster) string {
	if mv.root {
		return path.Join(c.Name, mesh.CADir, mesh.PreviousRootCertFile)
	}
	return path.Join(c.Name, mesh.CADir, mesh.RootCertFile)
}

// runningRootSteps check, in every cluster that stays, that cacerts holds
// the expected root as root-cert.pem, or that the move has begun there (an
// earlier run applied the cacerts Certificate): a Mesh that names the
// wrong previous root stops the plan before anything changes.
func (mv *caMove) runningRootSteps() []Step {
	var steps []Step
	for _, c := range mv.stays {
		ctx := templates.Shell(c.Context)
		root := mv.expectedRoot(c)
		what := "spec.ca.root (the root does not move: no spec.ca.previousRoot)"
		if mv.root {
			what = "spec.ca.previousRoot"
		}
		steps = append(steps, Step{Cluster: c.Name, Context: c.Context, Command: fmt.Sprintf(
			`kubectl --context=%[1]s -n %[2]s get certificate.cert-manager.io/%[3]s >/dev/null 2>&1 || [ "$(kubectl --context=%[1]s -n %[2]s get secret %[3]s -o 'jsonpath={.data.root-cert\.pem}' | base64 --decode | %[4]s | %[5]s)" = "$(%[4]s %[6]s | %[5]s)" ] || { echo %[7]s >&2; exit 1; }`,
			ctx, IstioNamespace, CACertsSecret, pemLines, joined, templates.Shell(root),
			templates.Shell(fmt.Sprintf("plan: cluster %s: root-cert.pem of %s/%s is not %s (%s): the workloads run under another root; name it in the Mesh and render again", c.Name, IstioNamespace, CACertsSecret, what, root)))})
	}
	return steps
}

// restartWorkloadSteps restart, in every cluster that stays, the
// deployments, stateful sets and daemon sets of the namespaces with
// sidecar injection, and wait for them.
func (mv *caMove) restartWorkloadSteps() []Step {
	var steps []Step
	for _, c := range mv.stays {
		steps = append(steps, Step{Cluster: c.Name, Context: c.Context, Disruptive: true, Command: restartWorkloads(c)})
	}
	return steps
}

// restartWorkloads is the command that restarts, one namespace at a time,
// the workloads of cluster c's namespaces with injection (the label
// istio-injection=enabled or istio.io/rev), waiting for each rollout.
func restartWorkloads(c *mesh.Cluster) string {
	kubectl := "kubectl --context=" + templates.Shell(c.Context)
	return fmt.Sprintf(`namespaces=$({ %[1]s get namespaces -l istio-injection=enabled -o name && %[1]s get namespaces -l istio.io/rev -o name; } | sort -u) || exit 1; for ns in $namespaces; do ns=${ns#namespace/}; w=$(%[1]s -n "$ns" get deployment,statefulset,daemonset -o name) || exit 1; [ -z "$w" ] || { %[1]s -n "$ns" rollout restart $w && for o in $w; do %[1]s -n "$ns" rollout status "$o" --timeout=600s || exit 1; done; } || exit 1; done`, kubectl)
}

// replaceSteps delete, in every cluster that stays, the cacerts Secret
// meshc certs made: only one with meshc's label and of type Opaque, so
// neither a Secret meshc did not make nor the kubernetes.io/tls one
// cert-manager writes (which carries meshc's label too) is touched.
func (mv *caMove) replaceSteps() []Step {
	var steps []Step
	for _, c := range mv.stays {
		steps = append(steps, Step{Cluster: c.Name, Context: c.Context, Destructive: true, Command: fmt.Sprintf(
			"kubectl --context=%s -n %s delete secret -l %s --field-selector %s",
			templates.Shell(c.Context), IstioNamespace, templates.Shell(ManagedByLabel+"="+ManagedByValue),
			templates.Shell("metadata.name="+CACertsSecret+",type=Opaque"))})
	}
	return steps
}

// restarts are the primaries whose istiod the move restarts after
// cacerts: those that stay.
func (mv *caMove) restarts() []string {
	var names []string
	for _, c := range mv.stays {
		names = append(names, c.Name)
	}
	return names
}

// renewSteps restart the workloads again once istiod signs under the new
// root.
func (mv *caMove) renewSteps() []Step {
	if !mv.root {
		return nil
	}
	return mv.restartWorkloadSteps()
}

// moveEndSteps restart, when a root's move ends (previousRoot dropped), the
// workloads of the clusters that stay: with ISTIO_MULTIROOT_MESH off istiod
// pushes no trust bundle, so a running sidecar would keep trusting the
// previous root until it restarts.
func moveEndSteps(old, new *mesh.Mesh) []Step {
	if !old.MovesRoot() || new.MovesRoot() {
		return nil
	}
	var steps []Step
	for i := range new.Spec.Clusters {
		if c := &new.Spec.Clusters[i]; old.Cluster(c.Name) != nil {
			steps = append(steps, Step{Cluster: c.Name, Context: c.Context, Disruptive: true, Command: restartWorkloads(c)})
		}
	}
	return steps
}
