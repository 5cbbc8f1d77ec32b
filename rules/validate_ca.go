package rules

import "meshc.dev/meshc/mesh"

// The rules of spec.ca (MC066–MC068, MC072, MC073; MC069 is retired): an
// issuer other than meshc's files must give every cluster an intermediate
// of one root, which meshc can name and the plan can compare.

// caRules are spec.ca's rows of the rule table (MC066–MC069);
// istioCSRRules (MC072, MC073) follow the federation's, in ID order.
var caRules = []Rule{
	{
		ID: "MC066", Name: "shared-root",
		Protects: "issuer: cert-manager or istio-csr without ca.root, or a ca.root that is not exactly one self-signed CA certificate: the one root every cluster's issuer must chain to (with cert-manager, the ca.crt of every cluster's cacerts; with istio-csr, the root it hands out and checks every certificate against). A bundle of several roots would let clusters chain to different ones.",
		Symptom:  "Each istiod signs with an intermediate of whatever root its issuer has: where two clusters' roots differ, every cross-cluster mTLS handshake fails (certificate verify failed, 503 with upstream connect error), while each cluster works alone (istio-csr issue 155).",
		check:    checkSharedRoot,
	},
	{
		ID: "MC067", Name: "acme-issuer",
		Protects: "A cert-manager ACME issuer, for the clusters' intermediates (issuer cert-manager) or the workloads' certificates (issuer istio-csr).",
		Symptom:  "ACME CAs (Let's Encrypt and the like) issue only leaf certificates for domain names they can validate, never a CA and never a SPIFFE identity: the cacerts Certificate never becomes Ready, and an istiod started without cacerts makes a self-signed root of its own, which no other cluster trusts; istio-csr's certificate requests are never signed, so sidecars never become ready (istio-csr does not support ACME issuers).",
		check:    checkACMEIssuer,
	},
	{
		ID: "MC068", Name: "ca-settings",
		Protects: "spec.ca settings that do not go with its issuer: cert-manager or istio-csr without certManager, a certManager issuer with neither or both of ca and vault, a Vault caBundle that is not one or more self-signed CA certificates, certManager or root with issuer meshc.",
		Symptom:  "meshc would have to guess which CA signs the intermediates: settings for another issuer are silently unused, and a cluster's cacerts is signed by a CA the user did not mean.",
		check:    checkCASettings,
	},
	{
		ID: "MC069", Name: "istio-csr-not-rendered",
		Protects: "issuer: istio-csr, before meshc rendered it.",
		Symptom:  "Rendering half of it would have installed istiod as a CA while the workloads expect istio-csr, or the reverse.",
		Retired:  "meshc renders istio-csr (its chart's values, the Issuer, istiod's CA server off, global.caAddress), so issuer: istio-csr is accepted; MC072 and MC073 refuse what it does not render yet.",
	},
}

func checkSharedRoot(m *mesh.Mesh, report func(string, string, ...any)) {
	ca := m.Spec.CA
	if !m.UsesCertManager() {
		return
	}
	if ca.Root == nil {
		what := map[string]string{mesh.IssuerCertManager: "every cluster's cacerts must hold as ca.crt", mesh.IssuerIstioCSR: "istio-csr hands out and every cluster's Issuer must chain to"}[ca.Issuer]
		report("spec.ca", "issuer %s needs root: the shared root CA certificate (PEM) %s", ca.Issuer, what)
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
		what := "no CA certificates"
		if m.UsesIstioCSR() {
			what = "no workload certificates (their identity is a SPIFFE URI, which no ACME CA validates; istio-csr does not support ACME)"
		}
		report("spec.ca.certManager.issuer.acme", "an ACME issuer issues %s: give ca (a CA Secret) or vault", what)
	}
}

func checkCASettings(m *mesh.Mesh, report func(string, string, ...any)) {
	ca := m.Spec.CA
	switch ca.Issuer {
	case mesh.IssuerMeshc:
		if ca.CertManager != nil {
			report("spec.ca.certManager", "certManager is used only with issuer cert-manager or istio-csr (issuer is %q)", ca.Issuer)
		}
		if ca.Root != nil {
			report("spec.ca.root", "root is used only with issuer cert-manager or istio-csr; with issuer meshc the root is meshc certs' root-cert.pem")
		}
	case mesh.IssuerCertManager, mesh.IssuerIstioCSR:
		if ca.CertManager == nil {
			report("spec.ca", "issuer %s needs certManager: the Issuer that signs each cluster's %s", ca.Issuer,
				map[string]string{mesh.IssuerCertManager: "intermediate", mesh.IssuerIstioCSR: "workload certificates"}[ca.Issuer])
			return
		}
		is := ca.CertManager.Issuer
		switch n := countTrue(is.CA != nil, is.Vault != nil, is.ACME != nil); {
		case n == 0:
			report("spec.ca.certManager.issuer", "issuer %q signs with nothing: give ca (a CA Secret) or vault", is.Name)
		case n > 1:
			report("spec.ca.certManager.issuer", "issuer %q gives several CAs: give one of ca and vault", is.Name)
		}
		if v := is.Vault; v != nil && v.CABundle != nil {
			if msg := mesh.TrustAnchorProblem(v.CABundle.PEM); msg != "" {
				report("spec.ca.certManager.issuer.vault.caBundle.pem", "Vault's CA bundle %s", msg)
			}
		}
		// The Issuer's CA Secret is the user's key: it must not be a
		// Secret that cert-manager writes in the same namespace.
		if is.CA != nil {
			written := map[string]string{mesh.IssuerCertManager: "cacerts", mesh.IssuerIstioCSR: "istiod-tls"}[ca.Issuer]
			if is.CA.SecretName == written || is.CA.SecretName == "cacerts" {
				report("spec.ca.certManager.issuer.ca.secretName", "the CA Secret %q is the Secret cert-manager writes in istio-system with issuer %s: it would replace your CA and its key with what it issues; keep your CA in a Secret of its own, such as mesh-ca", is.CA.SecretName, ca.Issuer)
			}
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

func checkIstioCSRVms(m *mesh.Mesh, report func(string, string, ...any)) {
	if m.UsesIstioCSR() && len(m.Spec.WorkloadGroups) > 0 {
		report("spec.workloadGroups", "VMs get their certificates from istiod, whose CA server is off with issuer istio-csr: meshc does not expose istio-csr to VMs; use issuer cert-manager (istiod stays the CA)")
	}
}

func checkIstioCSRPeers(m *mesh.Mesh, report func(string, string, ...any)) {
	if m.UsesIstioCSR() && len(m.Spec.Peers) > 0 {
		report("spec.peers", "a federated mesh has istiod hand out its peers' roots, and istio-csr hands out only the mesh's: meshc does not render federation with issuer istio-csr; use issuer cert-manager (istiod stays the CA)")
	}
}

// istioCSRRules refuse what meshc does not render with issuer istio-csr.
var istioCSRRules = []Rule{
	{
		ID: "MC072", Name: "istio-csr-vms",
		Protects: "issuer: istio-csr in a mesh with workloadGroups (virtual machines).",
		Symptom:  "A VM's sidecar asks istiod, through the east-west gateway, for its certificate; with istio-csr istiod's CA server is off and istio-csr is reachable only inside its cluster, so the VM never gets a certificate and its sidecar never becomes ready. meshc does not expose istio-csr to VMs.",
		check:    checkIstioCSRVms,
	},
	{
		ID: "MC073", Name: "istio-csr-peers",
		Protects: "issuer: istio-csr in a mesh federated with peers (spec.peers).",
		Symptom:  "Federation has istiod hand out the peers' roots with its own (ISTIO_MULTIROOT_MESH, meshConfig.caCertificates); with istio-csr istiod's CA server is off and istio-csr hands out only the mesh's root (istio-ca-root-cert), so the workloads would not trust the peers' and calls to them fail mTLS. meshc does not render that combination.",
		check:    checkIstioCSRPeers,
	},
}
