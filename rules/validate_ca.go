package rules

import "meshc.dev/meshc/mesh"

// The rules of spec.ca (MC066–MC069): an issuer other than meshc's files
// must give every cluster an intermediate of one root, which meshc can
// name and the plan can compare.

// caRules are spec.ca's rows of the rule table.
var caRules = []Rule{
	{
		ID: "MC066", Name: "shared-root",
		Protects: "issuer: cert-manager without ca.root, or a ca.root that is not exactly one self-signed CA certificate: the one root every cluster's cacerts must hold as ca.crt. A bundle of several roots would let clusters chain to different ones.",
		Symptom:  "Each istiod signs with an intermediate of whatever root its issuer has: where two clusters' roots differ, every cross-cluster mTLS handshake fails (certificate verify failed, 503 with upstream connect error), while each cluster works alone (istio-csr issue 155).",
		check:    checkSharedRoot,
	},
	{
		ID: "MC067", Name: "acme-issuer",
		Protects: "A cert-manager ACME issuer for the clusters' intermediates.",
		Symptom:  "ACME CAs (Let's Encrypt and the like) issue only leaf certificates for domain names, never a CA: the cacerts Certificate never becomes Ready, and an istiod started without cacerts makes a self-signed root of its own, which no other cluster trusts.",
		check:    checkACMEIssuer,
	},
	{
		ID: "MC068", Name: "ca-settings",
		Protects: "spec.ca settings that do not go with its issuer: cert-manager without certManager, a certManager issuer with neither or both of ca and vault, certManager or root with issuer meshc.",
		Symptom:  "meshc would have to guess which CA signs the intermediates: settings for another issuer are silently unused, and a cluster's cacerts is signed by a CA the user did not mean.",
		check:    checkCASettings,
	},
	{
		ID: "MC069", Name: "istio-csr-not-rendered",
		Protects: "issuer: istio-csr, which meshc does not render yet (istio-csr's chart and its values, istiod's CA server off, global.caAddress).",
		Symptom:  "Rendering half of it would install istiod as a CA while the workloads expect istio-csr, or the reverse: sidecars never get certificates and stay unready. Use issuer: cert-manager (cert-manager writes cacerts; istiod stays the CA) until meshc renders istio-csr.",
		check:    checkIstioCSRNotRendered,
	},
}

func checkSharedRoot(m *mesh.Mesh, report func(string, string, ...any)) {
	ca := m.Spec.CA
	if ca.Issuer != mesh.IssuerCertManager {
		return
	}
	if ca.Root == nil {
		report("spec.ca", "issuer %s needs root: the shared root CA certificate (PEM) every cluster's cacerts must hold as ca.crt", ca.Issuer)
		return
	}
	if msg := mesh.TrustAnchorProblem(ca.Root.PEM); msg != "" {
		report("spec.ca.root.pem", "the root %s", msg)
		return
	}
	certs := mesh.RootCertificates(ca.Root.PEM)
	if len(certs) != 1 {
		report("spec.ca.root.pem", "the root holds %d certificates; give exactly one, the root every cluster's intermediate chains to (clusters chaining to different roots do not trust each other)", len(certs))
	}
}

func checkACMEIssuer(m *mesh.Mesh, report func(string, string, ...any)) {
	if cm := m.Spec.CA.CertManager; cm != nil && cm.Issuer.ACME != nil {
		report("spec.ca.certManager.issuer.acme", "an ACME issuer issues no CA certificates: give ca (a CA Secret) or vault")
	}
}

func checkCASettings(m *mesh.Mesh, report func(string, string, ...any)) {
	ca := m.Spec.CA
	switch ca.Issuer {
	case mesh.IssuerMeshc:
		if ca.CertManager != nil {
			report("spec.ca.certManager", "certManager is used only with issuer: cert-manager (issuer is %q)", ca.Issuer)
		}
		if ca.Root != nil {
			report("spec.ca.root", "root is used only with issuer: cert-manager; with issuer meshc the root is meshc certs' root-cert.pem")
		}
	case mesh.IssuerCertManager:
		if ca.CertManager == nil {
			report("spec.ca", "issuer cert-manager needs certManager: the Issuer that signs each cluster's intermediate")
			return
		}
		is := ca.CertManager.Issuer
		switch n := countTrue(is.CA != nil, is.Vault != nil, is.ACME != nil); {
		case n == 0:
			report("spec.ca.certManager.issuer", "issuer %q signs with nothing: give ca (a CA Secret) or vault", is.Name)
		case n > 1:
			report("spec.ca.certManager.issuer", "issuer %q gives several CAs: give one of ca and vault", is.Name)
		}
	}
}

func countTrue(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

func checkIstioCSRNotRendered(m *mesh.Mesh, report func(string, string, ...any)) {
	if m.Spec.CA.Issuer == mesh.IssuerIstioCSR {
		report("spec.ca.issuer", "meshc does not render istio-csr yet; use issuer: cert-manager, which has cert-manager write each cluster's cacerts (istiod stays the CA)")
	}
}
