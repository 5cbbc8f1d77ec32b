package render

import (
	"fmt"
	"path"

	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/templates"
)

// istio-csr (spec.ca.issuer istio-csr): cert-manager's istio-csr signs the
// workloads' certificates in place of istiod, through the mesh's Issuer.
// Its chart comes from cert-manager's Helm repository at a pinned version;
// every value meshc sets was read from that version's values.yaml and
// values.schema.json (kept in conformance/testdata/charts).
const (
	IstioCSRRepoName = "jetstack"
	IstioCSRRepoURL  = "https://charts.jetstack.io"
	ChartIstioCSR    = "cert-manager-istio-csr"
	// IstioCSRChartVersion is the chart version the plan and GitOps
	// install: the one whose schema conformance checks the values with.
	IstioCSRChartVersion = "v0.17.0"
	// ReleaseIstioCSR is the release name; the chart names its Service
	// after itself (ChartIstioCSR), whatever the release.
	ReleaseIstioCSR = "cert-manager-istio-csr"
	// IstioCSRValuesFile is, in a cluster's ca/, the chart's values.
	IstioCSRValuesFile = "istio-csr.values.yaml"
	// IstioCSRRootConfigMap holds, in cert-manager's namespace, the mesh's
	// root under IstioCSRRootKey; the chart mounts it at IstioCSRRootDir
	// and istio-csr hands it out as every namespace's istio-ca-root-cert.
	IstioCSRRootConfigMap = "istio-csr-root-ca"
	IstioCSRRootKey       = "root-cert.pem"
	IstioCSRRootDir       = "/var/run/secrets/istio-csr"
	// IstiodCertificate is the Certificate the chart creates for istiod's
	// serving certificate (Secret istiod-tls), issued by the mesh's Issuer:
	// what the verify-root phase compares with the root.
	IstiodCertificate = "istiod"
	IstiodTLSSecret   = "istiod-tls"
	// PhaseIssuer applies the Issuer and the root istio-csr reads;
	// PhaseIstioCSR installs istio-csr, before any of Istio.
	PhaseIssuer   = "issuer"
	PhaseIstioCSR = "istio-csr"
)

// istioCSRChart is istio-csr's chart, installed into cert-manager's
// namespace, where it serves at IstioCSRService.
var istioCSRChart = &ChartSource{
	Repo:      HelmRepository{Name: IstioCSRRepoName, URL: IstioCSRRepoURL},
	Version:   func(*mesh.Mesh) string { return IstioCSRChartVersion },
	Namespace: func(m *mesh.Mesh) string { return m.Spec.CA.CertManager.Namespace },
}

// IstioCSRService is istio-csr's Service name in the cluster: the name its
// serving certificate carries and the sidecars dial.
func IstioCSRService(m *mesh.Mesh) string {
	return ChartIstioCSR + "." + m.Spec.CA.CertManager.Namespace + ".svc"
}

// CAAddress is, with istio-csr, where the sidecars ask for certificates
// (Istio's global.caAddress); "" when istiod is the CA.
func CAAddress(m *mesh.Mesh) string {
	if !m.UsesIstioCSR() {
		return ""
	}
	return IstioCSRService(m) + ":443"
}

// CAAddress: see the function CAAddress.
func (v *clusterView) CAAddress() string { return CAAddress(v.Mesh) }

// IstioCSRService: see the function IstioCSRService.
func (v *clusterView) IstioCSRService() string { return IstioCSRService(v.Mesh) }

// IstioCSR is what istio-csr's values template reads that is not the
// Mesh's: the chart's names and where the root is mounted.
func (v *clusterView) IstioCSR() map[string]string {
	return map[string]string{
		"RootConfigMap": IstioCSRRootConfigMap, "RootKey": IstioCSRRootKey, "RootDir": IstioCSRRootDir,
		"Chart": ChartIstioCSR, "Release": ReleaseIstioCSR, "Repo": IstioCSRRepoName, "Version": IstioCSRChartVersion,
	}
}

// caRootCheck is what the verify-root phase waits for and compares in a
// cluster: the Certificate whose Secret's ca.crt must be the mesh's root.
func caRootCheck(m *mesh.Mesh) (certificate, secret string) {
	if m.UsesIstioCSR() {
		return IstiodCertificate, IstiodTLSSecret
	}
	return CACertsSecret, CACertsSecret
}

// PlanIstioCSR is, in a plan, the istio-csr chart the istio-csr phase
// installs.
type PlanIstioCSR struct {
	Repository HelmRepository `json:"repository"`
	Chart      string         `json:"chart"`
	Version    string         `json:"version"`
	Namespace  string         `json:"namespace"`
}

func planIstioCSR(m *mesh.Mesh) *PlanIstioCSR {
	if !m.UsesIstioCSR() {
		return nil
	}
	return &PlanIstioCSR{Repository: istioCSRChart.Repo, Chart: ChartIstioCSR, Version: IstioCSRChartVersion, Namespace: istioCSRChart.Namespace(m)}
}

// helmInstallCommand is helm's command that installs a chart row.
func helmInstallCommand(a *Artifact, p *mesh.Placement) string {
	s := a.Source
	wait := ""
	if a.Wait {
		wait = " --wait"
	}
	return fmt.Sprintf("helm upgrade --install %s %s/%s --version %s --namespace %s --kube-context %s%s -f %s",
		a.ReleaseIn(p.Mesh), s.Repo.Name, a.Chart, templates.Shell(s.Version(p.Mesh)), templates.Shell(s.Namespace(p.Mesh)),
		templates.Shell(p.Cluster.Context), wait, templates.Shell(path.Join(p.Cluster.Name, a.Dir, a.Name)))
}
