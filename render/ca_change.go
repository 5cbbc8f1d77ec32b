package render

import (
	"meshc.dev/meshc/mesh"
)

// caChangeAllowed refuses a change plan that moves the clusters'
// intermediates to another issuer or another root. meshc does not plan that
// move yet: cert-manager cannot take over the Opaque cacerts Secret meshc
// certs wrote (a Secret's type is immutable, and istiod prefers the
// ca-cert.pem form while it is there), and a new root needs a transition in
// which every workload trusts both roots.
func caChangeAllowed(old, new *mesh.Mesh) error {
	o, n := old.Spec.CA, new.Spec.CA
	if o.Issuer != n.Issuer {
		return refuse("the clusters' intermediate CAs move from issuer %s to %s: meshc does not plan that move yet (the cacerts Secret changes form, and workloads must trust the old and the new root throughout); docs/certs.md says how to move by hand, then plan from a Mesh that names the issuer in use", o.Issuer, n.Issuer)
	}
	if o.Root != nil && n.Root != nil && rootDER(o.Root.PEM) != rootDER(n.Root.PEM) {
		return refuse("spec.ca.root changes: workloads with certificates of the old root would stop trusting those of the new one mid-change; it takes a transition in which every workload trusts both roots, which meshc does not plan")
	}
	return nil
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
