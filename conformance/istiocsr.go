package conformance

import (
	"bytes"
	"cmp"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"

	commonutil "helm.sh/helm/v4/pkg/chart/common/util"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
)

// istioCSRSchema is the values schema of istio-csr's chart, kept byte for
// byte (testdata/charts/README.md): the chart is not a Go module, and CI
// cannot fetch it.
//
//go:embed testdata/charts/istio-csr/values.schema.json
var istioCSRSchema []byte

// Facts of istio-csr's chart (deploy/charts/istio-csr at the kept
// version): its Service is named after the chart and serves on port 443.
const (
	istioCSRChartName = "cert-manager-istio-csr"
	istioCSRPort      = "443"
)

// istioCSRValues is what VerifyIstioCSR reads of the chart's values.
type istioCSRValues struct {
	App struct {
		CertManager struct {
			Namespace string `json:"namespace"`
			Issuer    struct {
				Name, Kind, Group string
			} `json:"issuer"`
		} `json:"certmanager"`
		TLS struct {
			TrustDomain              string   `json:"trustDomain"`
			RootCAFile               string   `json:"rootCAFile"`
			CertificateDNSNames      []string `json:"certificateDNSNames"`
			IstiodAdditionalDNSNames []string `json:"istiodAdditionalDNSNames"`
		} `json:"tls"`
		Server struct {
			ClusterID string `json:"clusterID"`
		} `json:"server"`
		Istio struct {
			Revisions []string `json:"revisions"`
		} `json:"istio"`
	} `json:"app"`
	Volumes      []corev1.Volume      `json:"volumes"`
	VolumeMounts []corev1.VolumeMount `json:"volumeMounts"`
}

// VerifyIstioCSR checks, for a Mesh whose workloads istio-csr signs
// (spec.ca.issuer istio-csr), every cluster's ca/istio-csr.values.yaml and
// its Istio values, expecting what the Mesh says: the values validate
// against the chart's values schema as helm validates them; they name the
// Mesh's Issuer (kind Issuer, in istio-system, where ca/cert-manager.yaml
// puts it), its trust domain, the cluster's name as clusterID, and every
// revision the Mesh's namespaces are injected by, default included; the
// rootCAFile is mounted from the ConfigMap of ca/cert-manager.yaml and that
// ConfigMap holds the Mesh's root; istio-csr's serving certificate carries
// the name Istio's global.caAddress dials, which is istio-csr's Service in
// the Mesh's cert-manager namespace; and every primary's istiod runs with
// its CA server off.
func VerifyIstioCSR(m *mesh.Mesh, dir string) error {
	if m.Spec.CA.Issuer != mesh.IssuerIstioCSR {
		return nil
	}
	var errs []error
	for _, c := range m.Spec.Clusters {
		errs = append(errs, verifyIstioCSRCluster(m, c, dir)...)
	}
	return problemsOf(CheckIstioCSR, errors.Join(errs...)).Err()
}

func verifyIstioCSRCluster(m *mesh.Mesh, c mesh.Cluster, dir string) []error {
	cm := m.Spec.CA.CertManager
	rel := path.Join(c.Name, mesh.CADir, "istio-csr.values.yaml")
	var errs []error
	fail := func(format string, a ...any) {
		errs = append(errs, diag.Problems{problemAt(CheckIstioCSR, rel, fmt.Sprintf(format, a...))})
	}
	data, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		return []error{diag.Problems{problemAt(CheckIstioCSR, rel, err.Error())}}
	}
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return []error{diag.Problems{problemAt(CheckIstioCSR, rel, err.Error())}}
	}
	if err := commonutil.ValidateAgainstSingleSchema(raw, istioCSRSchema); err != nil {
		fail("the chart's values schema: %v", err)
	}
	var v istioCSRValues
	if err := yaml.Unmarshal(data, &v); err != nil {
		return append(errs, diag.Problems{problemAt(CheckIstioCSR, rel, err.Error())})
	}
	a := v.App
	if is := a.CertManager.Issuer; is.Name != cm.Issuer.Name || is.Kind != "Issuer" || is.Group != "cert-manager.io" || a.CertManager.Namespace != "istio-system" {
		fail("issuer %s %s (%s) in %q, the Mesh's is Issuer %s in istio-system", is.Kind, is.Name, is.Group, a.CertManager.Namespace, cm.Issuer.Name)
	}
	if a.TLS.TrustDomain != m.Spec.TrustDomain {
		fail("trustDomain %q, the Mesh's is %q", a.TLS.TrustDomain, m.Spec.TrustDomain)
	}
	if a.Server.ClusterID != c.Name {
		fail("clusterID %q, the cluster is %q: istio-csr would refuse its proxies' requests", a.Server.ClusterID, c.Name)
	}
	for _, rev := range injectedRevisions(m) {
		if !slices.Contains(a.Istio.Revisions, rev) {
			fail("revisions %v lack %q, which the Mesh's namespaces are injected by", a.Istio.Revisions, rev)
		}
	}
	root, err := rootConfigMap(dir, c.Name)
	if err != nil {
		fail("%v", err)
	} else if got := mountedFile(v, root.Name, a.TLS.RootCAFile); got == "" || !bytes.Equal(pemCerts([]byte(root.Data[got])), pemCerts([]byte(m.Spec.CA.Root.PEM))) {
		fail("rootCAFile %q is not the Mesh's root mounted from ConfigMap %s", a.TLS.RootCAFile, root.Name)
	}
	host := istioCSRChartName + "." + cm.Namespace + ".svc"
	if !slices.Contains(a.TLS.CertificateDNSNames, host) {
		fail("certificateDNSNames %v lack %s, istio-csr's Service, which the sidecars dial", a.TLS.CertificateDNSNames, host)
	}
	errs = append(errs, checkIstioCA(m, c, dir, host+":"+istioCSRPort)...)
	return errs
}

// injectedRevisions are the control plane revisions the Mesh's namespaces
// are injected by: the one it installs ("default" without
// spec.istio.revision), each its tags point at, and a revision a namespace
// names itself.
func injectedRevisions(m *mesh.Mesh) []string {
	revs := []string{cmp.Or(m.Spec.Istio.Revision, "default")}
	for _, t := range m.Spec.Istio.Tags {
		if !slices.Contains(revs, t.Revision) {
			revs = append(revs, t.Revision)
		}
	}
	for _, n := range m.Spec.Namespaces {
		if n.Revision != "" && m.Tag(n.Revision) == nil && !slices.Contains(revs, n.Revision) {
			revs = append(revs, n.Revision)
		}
	}
	return revs
}

// rootConfigMap is the ConfigMap of the cluster's ca/cert-manager.yaml.
func rootConfigMap(dir, cluster string) (*corev1.ConfigMap, error) {
	data, err := os.ReadFile(filepath.Join(dir, cluster, mesh.CADir, mesh.CAIssuerFile))
	if err != nil {
		return nil, err
	}
	objs, err := decodeObjects(data)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		if o.GetKind() == "ConfigMap" {
			var c corev1.ConfigMap
			if err := runtimeInto(o, &c); err != nil {
				return nil, err
			}
			return &c, nil
		}
	}
	return nil, errors.New("ca/cert-manager.yaml holds no ConfigMap of the root")
}

// mountedFile is the key of ConfigMap name that file is, through the
// values' volumes and volumeMounts; "" when it is none.
func mountedFile(v istioCSRValues, name, file string) string {
	for _, vol := range v.Volumes {
		if vol.ConfigMap == nil || vol.ConfigMap.Name != name {
			continue
		}
		for _, mnt := range v.VolumeMounts {
			if mnt.Name == vol.Name && path.Dir(file) == path.Clean(mnt.MountPath) {
				return path.Base(file)
			}
		}
	}
	return ""
}

// checkRootConfigMap checks the ConfigMap istio-csr reads the root from:
// in the Mesh's cert-manager namespace, with one key, the Mesh's root.
func checkRootConfigMap(m *mesh.Mesh, c corev1.ConfigMap, fail func(string, ...any)) {
	if c.Namespace != m.Spec.CA.CertManager.Namespace {
		fail("ConfigMap %s: in namespace %q, want cert-manager's, %s", c.Name, c.Namespace, m.Spec.CA.CertManager.Namespace)
	}
	if len(c.Data) != 1 {
		fail("ConfigMap %s: %d keys, want one, the root", c.Name, len(c.Data))
	}
	for k, d := range c.Data {
		if !bytes.Equal(pemCerts([]byte(d)), pemCerts([]byte(m.Spec.CA.Root.PEM))) {
			fail("ConfigMap %s: %s is not the Mesh's root", c.Name, k)
		}
	}
}

// checkIstioCA checks Istio's side in the cluster's control plane values
// (the IstioOperator's spec.values, or the istiod chart's values):
// global.caAddress is istio-csr's, and a primary's istiod env turns its CA
// server off.
func checkIstioCA(m *mesh.Mesh, c mesh.Cluster, dir, caAddress string) []error {
	rel := path.Join(c.Name, "install", "istio.yaml")
	if m.UsesHelm() {
		rel = path.Join(c.Name, "helm", "istiod.values.yaml")
	}
	data, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		return []error{err}
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return []error{diag.Problems{problemAt(CheckIstioCSR, rel, err.Error())}}
	}
	values, envPath := doc, []string{"env"}
	if !m.UsesHelm() {
		values = dig(doc, "spec", "values")
		envPath = []string{"pilot", "env"}
	}
	var errs []error
	if got := dig(values, "global")["caAddress"]; got != caAddress {
		errs = append(errs, diag.Problems{problemAt(CheckIstioCSR, rel, fmt.Sprintf("global.caAddress %v, want istio-csr's, %s", got, caAddress))})
	}
	if c.IsPrimary() {
		if got := dig(values, envPath...)["ENABLE_CA_SERVER"]; got != "false" {
			errs = append(errs, diag.Problems{problemAt(CheckIstioCSR, rel, fmt.Sprintf("istiod's ENABLE_CA_SERVER %v, want \"false\": istio-csr is the CA", got))})
		}
	}
	return errs
}

// dig returns the mapping at keys in v, or nil.
func dig(v map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		v, _ = v[k].(map[string]any)
	}
	return v
}
