package conformance

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/render"
)

// validateCertManagerObject checks an object of ca/cert-manager.yaml
// against its API: cert-manager's Issuer and Certificate strictly into
// cert-manager's Go types and against its CRDs (testdata/crds), the Vault
// issuer's service account and RBAC into Kubernetes' types. ok is false for
// another kind.
func validateCertManagerObject(o *unstructured.Unstructured) (ok bool, err error) {
	switch o.GetAPIVersion() + " " + o.GetKind() {
	case cmapi.SchemeGroupVersion.String() + " " + cmapi.IssuerKind:
		return true, errors.Join(strictInto(o, &cmapi.Issuer{}), crdValidate(o))
	case cmapi.SchemeGroupVersion.String() + " " + cmapi.CertificateKind:
		return true, errors.Join(strictInto(o, &cmapi.Certificate{}), crdValidate(o))
	case "v1 ServiceAccount":
		return true, strictInto(o, &corev1.ServiceAccount{})
	case "v1 ConfigMap":
		return true, strictInto(o, &corev1.ConfigMap{})
	case "rbac.authorization.k8s.io/v1 Role":
		return true, strictInto(o, &rbacv1.Role{})
	case "rbac.authorization.k8s.io/v1 RoleBinding":
		return true, strictInto(o, &rbacv1.RoleBinding{})
	}
	return false, nil
}

func crdValidate(o *unstructured.Unstructured) error {
	crds, err := loadCRDs()
	if err != nil {
		return err
	}
	s := crds[o.GetAPIVersion()+" "+o.GetKind()]
	if s == nil {
		return fmt.Errorf("no CRD for %s %s in testdata/crds", o.GetAPIVersion(), o.GetKind())
	}
	return s.validate(o)
}

// VerifyCertManager checks, for a Mesh whose intermediates cert-manager
// issues (spec.ca.issuer cert-manager), every cluster's ca/ in the output
// dir: each object of cert-manager.yaml decodes as above, and what it says
// is what the Mesh says, read from the Mesh rather than the renderer: one
// Issuer in istio-system named as the Mesh names it, signing with the
// Mesh's CA Secret or Vault (server, path, role, mount, through the
// service account the RoleBinding lets cert-manager's own account mint
// tokens for); a Certificate that issues a CA into istio-system/cacerts
// with that Issuer, for the Mesh's duration, labelled for change plans;
// and root-cert.pem is the Mesh's root. Findings are joined, each prefixed
// with its file.
//
// With issuer istio-csr, cert-manager.yaml holds no Certificate but a
// ConfigMap, in cert-manager's namespace, of the Mesh's root, and
// VerifyIstioCSR checks istio-csr's values and Istio's CA settings.
func VerifyCertManager(m *mesh.Mesh, dir string) error {
	if m.Spec.CA.Issuer != mesh.IssuerCertManager && m.Spec.CA.Issuer != mesh.IssuerIstioCSR {
		return nil
	}
	var errs []error
	for _, c := range m.Spec.Clusters {
		if err := verifyClusterCA(m, c.Name, dir); err != nil {
			errs = append(errs, err)
		}
	}
	return problemsOf(CheckCertManager, errors.Join(errs...)).Err()
}

func verifyClusterCA(m *mesh.Mesh, cluster, dir string) error {
	cm := m.Spec.CA.CertManager
	rel := filepath.Join(cluster, "ca", "cert-manager.yaml")
	var errs []error
	fail := func(format string, a ...any) {
		errs = append(errs, diag.Problems{problemAt(CheckCertManager, filepath.ToSlash(rel), fmt.Sprintf(format, a...))})
	}
	data, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		return diag.Problems{problemAt(CheckCertManager, filepath.ToSlash(rel), err.Error())}
	}
	objs, err := decodeObjects(data)
	if err != nil {
		return diag.Problems{problemAt(CheckCertManager, filepath.ToSlash(rel), err.Error())}
	}
	csr := m.Spec.CA.Issuer == mesh.IssuerIstioCSR
	var issuers []cmapi.Issuer
	var certsOf []cmapi.Certificate
	var configMaps []corev1.ConfigMap
	var bindings []rbacv1.RoleBinding
	var roles []rbacv1.Role
	accounts := map[string]bool{}
	for _, o := range objs {
		ok, err := validateCertManagerObject(o)
		switch {
		case !ok:
			fail("%s %s: a kind cert-manager's issuing does not need", o.GetKind(), o.GetName())
			continue
		case err != nil:
			fail("%s %s: %v", o.GetKind(), o.GetName(), err)
			continue
		}
		if want := render.IstioNamespace; o.GetKind() != "ConfigMap" && o.GetNamespace() != want {
			fail("%s %s: in namespace %q, want %s", o.GetKind(), o.GetName(), o.GetNamespace(), want)
		}
		if o.GetLabels()[render.ManagedByLabel] != render.ManagedByValue {
			fail("%s %s: without %s=%s, a change plan could not remove it", o.GetKind(), o.GetName(), render.ManagedByLabel, render.ManagedByValue)
		}
		switch o.GetKind() {
		case cmapi.IssuerKind:
			var is cmapi.Issuer
			_ = runtimeInto(o, &is)
			issuers = append(issuers, is)
		case cmapi.CertificateKind:
			var crt cmapi.Certificate
			_ = runtimeInto(o, &crt)
			certsOf = append(certsOf, crt)
		case "RoleBinding":
			var b rbacv1.RoleBinding
			_ = runtimeInto(o, &b)
			bindings = append(bindings, b)
		case "Role":
			var r rbacv1.Role
			_ = runtimeInto(o, &r)
			roles = append(roles, r)
		case "ServiceAccount":
			accounts[o.GetName()] = true
		case "ConfigMap":
			var c corev1.ConfigMap
			_ = runtimeInto(o, &c)
			configMaps = append(configMaps, c)
		}
	}
	if wantCerts, wantMaps := map[bool]int{false: 1, true: 0}[csr], map[bool]int{false: 0, true: 1}[csr]; len(issuers) != 1 || len(certsOf) != wantCerts || len(configMaps) != wantMaps {
		fail("%d Issuers, %d Certificates and %d ConfigMaps, want 1, %d and %d", len(issuers), len(certsOf), len(configMaps), wantCerts, wantMaps)
		return errors.Join(errs...)
	}
	is := issuers[0]
	if is.Name != cm.Issuer.Name {
		fail("Issuer %s, the Mesh names it %s", is.Name, cm.Issuer.Name)
	}
	switch want := cm.Issuer; {
	case want.CA != nil:
		if is.Spec.CA == nil || is.Spec.CA.SecretName != want.CA.SecretName || is.Spec.Vault != nil {
			fail("Issuer %s does not sign with exactly CA Secret %s", is.Name, want.CA.SecretName)
		}
	case want.Vault != nil:
		v := is.Spec.Vault
		if v == nil || is.Spec.CA != nil {
			fail("Issuer %s does not sign with exactly Vault", is.Name)
			break
		}
		if v.Server != want.Vault.Server || v.Path != want.Vault.Path {
			fail("Issuer %s: Vault %s path %s, the Mesh says %s path %s", is.Name, v.Server, v.Path, want.Vault.Server, want.Vault.Path)
		}
		k := v.Auth.Kubernetes
		if k == nil || k.Role != want.Vault.Role || k.Path != want.Vault.MountPath || k.ServiceAccountRef == nil || k.SecretRef.Name != "" {
			fail("Issuer %s: Vault's Kubernetes auth is not role %s at %s through a service account (no stored token)", is.Name, want.Vault.Role, want.Vault.MountPath)
			break
		}
		sa := k.ServiceAccountRef.Name
		if !accounts[sa] {
			fail("service account %s, which the Issuer logs in as, is not rendered", sa)
		}
		if !tokenGrant(roles, bindings, sa, cm.Namespace) {
			fail("no Role and RoleBinding let cert-manager (%s/cert-manager) create tokens of %s", cm.Namespace, sa)
		}
	}
	if csr {
		checkRootConfigMap(m, configMaps[0], fail)
	} else {
		checkCACertsCertificate(m, certsOf[0], fail)
	}
	root, err := os.ReadFile(filepath.Join(dir, cluster, "ca", "root-cert.pem"))
	if err != nil {
		errs = append(errs, err)
	} else if !bytes.Equal(pemCerts(root), pemCerts([]byte(m.Spec.CA.Root.PEM))) {
		fail("root-cert.pem is not the Mesh's root")
	}
	return errors.Join(errs...)
}

// checkCACertsCertificate checks the Certificate that issues cacerts: a CA
// into istio-system/cacerts, from the Mesh's Issuer, for its duration,
// labelled for change plans.
func checkCACertsCertificate(m *mesh.Mesh, crt cmapi.Certificate, fail func(string, ...any)) {
	cm := m.Spec.CA.CertManager
	s := crt.Spec
	if !s.IsCA || s.SecretName != render.CACertsSecret || crt.Name != render.CACertsSecret {
		fail("Certificate %s: isCA %v into Secret %q, want a CA into %s", crt.Name, s.IsCA, s.SecretName, render.CACertsSecret)
	}
	if s.IssuerRef.Name != cm.Issuer.Name || s.IssuerRef.Kind != cmapi.IssuerKind || s.IssuerRef.Group != "cert-manager.io" {
		fail("Certificate %s is issued by %s %s, want Issuer %s", crt.Name, s.IssuerRef.Kind, s.IssuerRef.Name, cm.Issuer.Name)
	}
	if s.Duration == nil || s.Duration.Duration.String() != durationOf(cm.Duration) {
		fail("Certificate %s: duration %v, the Mesh says %s", crt.Name, s.Duration, cm.Duration)
	}
	if s.SecretTemplate == nil || s.SecretTemplate.Labels[render.ManagedByLabel] != render.ManagedByValue {
		fail("Certificate %s: the Secret it issues would lack %s=%s", crt.Name, render.ManagedByLabel, render.ManagedByValue)
	}
}

// tokenGrant reports whether a Role lets subjects of a RoleBinding to it
// include cert-manager's account and allow creating tokens of sa.
func tokenGrant(roles []rbacv1.Role, bindings []rbacv1.RoleBinding, sa, ns string) bool {
	for _, b := range bindings {
		bound := false
		for _, s := range b.Subjects {
			bound = bound || s.Kind == "ServiceAccount" && s.Name == "cert-manager" && s.Namespace == ns
		}
		if !bound || b.RoleRef.Kind != "Role" {
			continue
		}
		for _, r := range roles {
			if r.Name != b.RoleRef.Name {
				continue
			}
			for _, rule := range r.Rules {
				if hasString(rule.Resources, "serviceaccounts/token") && hasString(rule.Verbs, "create") && hasString(rule.ResourceNames, sa) {
					return true
				}
			}
		}
	}
	return false
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// durationOf is the Mesh's duration ("8760h") as Go prints it.
func durationOf(hours string) string { return hours + "0m0s" }

// pemCerts is the DER of the certificates in PEM text, concatenated, so
// two encodings of one root compare equal.
func pemCerts(data []byte) []byte {
	var out []byte
	for b, rest := pem.Decode(data); b != nil; b, rest = pem.Decode(rest) {
		out = append(out, b.Bytes...)
	}
	return out
}
