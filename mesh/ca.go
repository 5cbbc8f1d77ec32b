package mesh

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
)

// CA is spec.ca: who issues each cluster's intermediate CA, the cacerts
// Secret istiod signs workload certificates with.
type CA struct {
	// Issuer is IssuerMeshc, IssuerCertManager or IssuerIstioCSR.
	Issuer string `json:"issuer"`
	// Root is the shared root the clusters' intermediates chain to; nil
	// when not given (issuer meshc: meshc certs holds it).
	Root *TrustAnchor `json:"root,omitempty"`
	// PreviousRoot is, while the mesh moves to Root from another root
	// (meshc certs' root, when it moves from issuer meshc), the root the
	// running workloads' certificates chain to: every control plane hands
	// out both, so no workload stops trusting another mid-move. nil
	// otherwise.
	PreviousRoot *TrustAnchor `json:"previousRoot,omitempty"`
	CertManager  *CertManager `json:"certManager,omitempty"`
}

// CA issuers, as spelled in the input.
const (
	IssuerMeshc       = "meshc"
	IssuerCertManager = "cert-manager"
	IssuerIstioCSR    = "istio-csr"
)

// CertManager is spec.ca.certManager: the cert-manager every cluster runs
// and the Issuer render writes into each cluster's istio-system.
type CertManager struct {
	Namespace string            `json:"namespace"`
	Issuer    CertManagerIssuer `json:"issuer"`
	// Duration is each intermediate's validity, in hours ("8760h").
	Duration string `json:"duration"`
}

// CertManagerIssuer is the Issuer meshc renders: a CA Secret or Vault.
type CertManagerIssuer struct {
	Name  string       `json:"name"`
	CA    *CAIssuer    `json:"ca,omitempty"`
	Vault *VaultIssuer `json:"vault,omitempty"`
	// ACME is set when the input gives an ACME issuer, which MC067
	// refuses.
	ACME *ACMEIssuer `json:"acme,omitempty"`
}

// ACMEIssuer is an ACME issuer's settings: only their presence matters
// (MC067 refuses them), so none is kept and none reaches the output.
type ACMEIssuer struct{}

// UnmarshalJSON accepts whatever the schema let through (an open struct).
func (*ACMEIssuer) UnmarshalJSON([]byte) error { return nil }

// CAIssuer signs with the CA in a Secret the user creates in istio-system.
type CAIssuer struct {
	SecretName string `json:"secretName"`
}

// VaultIssuer signs with a Vault PKI path, logging in with the Kubernetes
// auth method as VaultServiceAccount.
type VaultIssuer struct {
	Server    string `json:"server"`
	Path      string `json:"path"`
	Role      string `json:"role"`
	MountPath string `json:"mountPath"`
	// CABundle is the root of Vault's TLS certificate, when no system root
	// signs it; nil otherwise.
	CABundle *TrustAnchor `json:"caBundle,omitempty"`
}

// CABundleBase64 is the Issuer's spec.vault.caBundle: the certificates of
// CABundle, PEM-encoded afresh, in base64 (cert-manager's field is bytes).
func (v VaultIssuer) CABundleBase64() string {
	return base64.StdEncoding.EncodeToString([]byte(v.CABundle.PEMBlock(0) + "\n"))
}

// Names of what render writes for cert-manager, in every cluster.
const (
	// CADir holds, in a cluster's directory, what makes its cacerts when
	// meshc does not: CAIssuerFile (applied by the cacerts phase) and
	// RootCertFile (the root the plan compares cacerts' ca.crt with).
	CADir        = "ca"
	CAIssuerFile = "cert-manager.yaml"
	RootCertFile = "root-cert.pem"
	// VaultServiceAccount is the service account, in istio-system, whose
	// tokens cert-manager presents to Vault's Kubernetes auth method.
	VaultServiceAccount = "meshc-vault-issuer"
	// CertManagerServiceAccount is cert-manager's own service account (the
	// chart's default), which requests those tokens.
	CertManagerServiceAccount = "cert-manager"
	// CertManagerWebhook is the deployment whose readiness means
	// cert-manager accepts objects (the chart's default name).
	CertManagerWebhook = "cert-manager-webhook"
)

// CertManagerCRDs are the kinds the cacerts phase applies: the plan checks
// they exist before it does.
var CertManagerCRDs = []string{"certificates.cert-manager.io", "issuers.cert-manager.io"}

// UsesCertManager reports whether every cluster's cert-manager holds the
// mesh's Issuer (issuer cert-manager or istio-csr): the cluster gets
// CADir's files, and the plan checks cert-manager and the root.
func (m *Mesh) UsesCertManager() bool {
	return m.Spec.CA.Issuer == IssuerCertManager || m.Spec.CA.Issuer == IssuerIstioCSR
}

// UsesCertManager: see Mesh.UsesCertManager.
func (p *Placement) UsesCertManager() bool { return p.Mesh.UsesCertManager() }

// WritesCACerts reports whether cert-manager writes the clusters' cacerts
// (issuer cert-manager): istiod stays the CA.
func (m *Mesh) WritesCACerts() bool { return m.Spec.CA.Issuer == IssuerCertManager }

// WritesCACerts: see Mesh.WritesCACerts.
func (p *Placement) WritesCACerts() bool { return p.Mesh.WritesCACerts() }

// UsesIstioCSR reports whether istio-csr signs the workloads' certificates
// in place of istiod (issuer istio-csr).
func (m *Mesh) UsesIstioCSR() bool { return m.Spec.CA.Issuer == IssuerIstioCSR }

// UsesIstioCSR: see Mesh.UsesIstioCSR.
func (p *Placement) UsesIstioCSR() bool { return p.Mesh.UsesIstioCSR() }

// Revisions are the control plane revisions the mesh's workloads are
// injected by, which istio-csr serves: those the Mesh installs (tags
// name no revision of their own).
func (m *Mesh) Revisions() []string { return m.InstalledRevisions() }

// CertManager is the mesh's cert-manager settings, for templates.
func (p *Placement) CertManager() *CertManager { return p.Mesh.Spec.CA.CertManager }

// RootPEM is the shared root as the rendered root-cert.pem holds it:
// re-encoded, so no text of the input but the certificate reaches it.
func (p *Placement) RootPEM() string { return p.Mesh.Spec.CA.Root.PEMBlock(0) + "\n" }

// RootCertificates parses the certificates of a PEM bundle, stopping at
// the first block that is not one.
func RootCertificates(pemText string) []*x509.Certificate {
	var out []*x509.Certificate
	rest := []byte(pemText)
	for {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil || b.Type != "CERTIFICATE" {
			return out
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return out
		}
		out = append(out, c)
	}
}

// VaultServiceAccount and CertManagerServiceAccount are the constants, for
// templates.
func (*Placement) VaultServiceAccount() string       { return VaultServiceAccount }
func (*Placement) CertManagerServiceAccount() string { return CertManagerServiceAccount }

// MovesRoot reports whether the mesh is moving to its root from
// spec.ca.previousRoot: its control planes hand out both.
func (m *Mesh) MovesRoot() bool { return m.Spec.CA.PreviousRoot != nil }

// MultiRoot reports whether istiod hands out roots beside its own CA's
// (meshConfig.caCertificates: the peers' roots, or the previous and the
// new root while the root moves), which takes ISTIO_MULTIROOT_MESH on
// istiod and PROXY_CONFIG_XDS_AGENT on every proxy.
func (m *Mesh) MultiRoot() bool { return m.Federated() || m.MovesRoot() }

// PreviousRootCertFile is, in CADir while the root moves, the previous
// root: the change plan checks that the running clusters' cacerts holds it.
const PreviousRootCertFile = "previous-root-cert.pem"

// MovesRoot: see Mesh.MovesRoot.
func (p *Placement) MovesRoot() bool { return p.Mesh.MovesRoot() }

// PreviousRootPEM is the previous root as the rendered
// previous-root-cert.pem holds it.
func (p *Placement) PreviousRootPEM() string {
	return p.Mesh.Spec.CA.PreviousRoot.PEMBlock(0) + "\n"
}
