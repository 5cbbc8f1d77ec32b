package rules

import (
	"time"

	"meshc.dev/meshc/mesh"
)

// The rules of a CA that moves or renews (MC094, MC095): what a root move
// through spec.ca.previousRoot needs, and intermediates that outlive the
// workload certificates they sign.

// caMoveRules are the rows of the rule table for spec.ca.previousRoot and
// certManager.duration, after the other helpers' ranges, in ID order.
var caMoveRules = []Rule{
	{
		ID: "MC094", Name: "previous-root",
		Protects: "spec.ca.previousRoot where the move it describes cannot happen: with an issuer other than cert-manager, with workloadGroups (VMs), a previousRoot that is not exactly one self-signed CA certificate, or one equal to root.",
		Symptom:  "The control planes hand out a root no workload holds certificates of, or cannot hand out two at all: with istio-csr istiod's CA server is off and istio-csr hands out one root; a VM keeps the root of its files and stops trusting istiod once it signs under the new root; a previousRoot equal to root turns on multi-root distribution (and a restart of every workload) for nothing.",
		check:    checkPreviousRoot,
	},
	{
		ID: "MC095", Name: "intermediate-duration",
		Runtime:  true,
		Protects: "certManager.duration under 36h with issuer cert-manager: cert-manager renews the intermediate at two thirds of its life, and istiod signs workload certificates for 24 hours.",
		Symptom:  "istiod never signs past its intermediate's expiry: workload certificates come out shorter than 24 hours, sidecars rotate them ever more often, and a renewal that is late by hours (cert-manager or the CA down) leaves every new workload without a certificate.",
		check:    checkIntermediateDuration,
	},
}

func checkPreviousRoot(m *mesh.Mesh, report func(string, string, ...any)) {
	ca := m.Spec.CA
	if ca.PreviousRoot == nil {
		return
	}
	if ca.Issuer != mesh.IssuerCertManager {
		report("spec.ca.previousRoot", "previousRoot is used only with issuer cert-manager, whose istiod hands out both roots while the mesh moves to root (issuer is %q)", ca.Issuer)
		return
	}
	if len(m.Spec.WorkloadGroups) > 0 {
		report("spec.ca.previousRoot", "a VM keeps the root of its files and would stop trusting istiod once it signs under the new root: meshc does not move the root of a mesh with workloadGroups; move the VMs' files by hand (docs/certs.md)")
	}
	if msg := mesh.TrustAnchorProblem(ca.PreviousRoot.PEM); msg != "" {
		report("spec.ca.previousRoot.pem", "the previous root %s", msg)
		return
	}
	certs := mesh.RootCertificates(ca.PreviousRoot.PEM)
	if len(certs) != 1 {
		report("spec.ca.previousRoot.pem", "the previous root holds %d certificates; give exactly one, the root the running workloads' certificates chain to (meshc certs' root-cert.pem)", len(certs))
		return
	}
	if ca.Root != nil {
		if roots := mesh.RootCertificates(ca.Root.PEM); len(roots) == 1 && roots[0].Equal(certs[0]) {
			report("spec.ca.previousRoot.pem", "the previous root is the root: the root does not move, so leave previousRoot out (the change plan checks the running root is this one)")
		}
	}
}

// minIntermediate is the shortest intermediate MC095 accepts: renewed at
// two thirds, it still has 12 hours left when it signs a 24-hour workload
// certificate.
const minIntermediate = 36 * time.Hour

func checkIntermediateDuration(m *mesh.Mesh, report func(string, string, ...any)) {
	cm := m.Spec.CA.CertManager
	if !m.WritesCACerts() || cm == nil {
		return
	}
	if d, err := time.ParseDuration(cm.Duration); err == nil && d < minIntermediate {
		report("spec.ca.certManager.duration", "an intermediate of %s is renewed at two thirds of it, and istiod signs workload certificates for 24h: give at least %s", cm.Duration, "36h")
	}
}

// changeRules are the rules of change plans (meshc plan --from OLD NEW):
// render's BuildChangePlan refuses, at the value of NEW that changed, what
// no plan makes safely in place. No single Mesh breaks them.
var changeRules = []Rule{
	{
		ID: "MC096", Name: "change-identity",
		Protects: "A change plan to a new mesh ID or trust domain.",
		Symptom:  "Every sidecar's identity and every cluster's configuration carry them: mid-change, workloads of the old and the new identity stop trusting each other (certificate verify failed, RBAC: access denied); it is a new mesh, not a change.",
	},
	{
		ID: "MC097", Name: "change-context",
		Protects: "A change plan in which a kube context or API server changes hands: a cluster renamed in its context, a cluster moved to another context, a new cluster where one leaves.",
		Symptom:  "The plan removes what the old mesh put into a context by the old cluster's name, and uninstalls Istio from a cluster that leaves: in a context the new mesh uses, it takes out what it just installed; remote secrets and GitOps destinations send one cluster's configuration to another.",
	},
	{
		ID: "MC098", Name: "change-installer",
		Protects: "A change plan to another installer (istioctl, Helm). Istio's releases and revisions have MC078–MC083.",
		Symptom:  "Helm does not adopt what istioctl installed, nor the reverse: the install fails on resources it does not own, or two tools fight over one control plane.",
	},
	{
		ID: "MC099", Name: "change-ca",
		Protects: "A change plan that moves the clusters' intermediates between issuers or roots in a way meshc does not plan: to or from istio-csr, back from cert-manager to meshc's files, a new root under cert-manager, a previousRoot that appears or changes while the issuer stays, a move to cert-manager together with an Istio upgrade.",
		Symptom:  "Workloads with certificates of one signer or root stop trusting those of the other mid-change (certificate verify failed), or istiod starts without the CA it needs and makes a root of its own.",
	},
}
