package conformance

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"meshc.dev/meshc/render"
)

// TestIstioCSRSchemaVersion: the kept schema is the one of the chart
// version the plans install.
func TestIstioCSRSchemaVersion(t *testing.T) {
	readme, err := os.ReadFile("testdata/charts/README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "tag "+render.IstioCSRChartVersion+",") {
		t.Errorf("testdata/charts/README.md does not name the schema of chart version %s, which the plans install", render.IstioCSRChartVersion)
	}
}

// TestVerifyIstioCSRFindings shows the istio-csr check can fail: each
// mutation of a rendered file is a finding that names what is wrong.
func TestVerifyIstioCSRFindings(t *testing.T) {
	for _, tc := range []struct {
		file, old, new, want string
	}{
		{"ca/istio-csr.values.yaml", "    clusterID: cluster1", "    clusterID: Kubernetes", "clusterID"},
		{"ca/istio-csr.values.yaml", "    trustDomain: mesh1.example.com", "    trustDomain: cluster.local", "trustDomain"},
		{"ca/istio-csr.values.yaml", "      - \"1-28\"\n", "      - default\n", `lack "1-28"`},
		{"ca/istio-csr.values.yaml", "      name: mesh-ca", "      name: istio-ca", "issuer"},
		{"ca/istio-csr.values.yaml", "    rootCAFile: /var/run/secrets/istio-csr/root-cert.pem", "    rootCAFile: /etc/root.pem", "rootCAFile"},
		{"ca/istio-csr.values.yaml", "  server:\n", "  server:\n    clusterId: cluster1\n", "values schema"},
		{"ca/istio-csr.values.yaml", "    readOnly: true", "    readOnly: true\nreplicaCount: two", "values schema"},
		{"ca/istio-csr.values.yaml", "      - cert-manager-istio-csr.cert-manager.svc", "      - istio-csr.cert-manager.svc", "certificateDNSNames"},
		{"ca/cert-manager.yaml", "    -----BEGIN CERTIFICATE-----\n    M", "    -----BEGIN CERTIFICATE-----\n    N", "root"},
		{"ca/cert-manager.yaml", "  namespace: cert-manager", "  namespace: istio-system", "cert-manager's"},
		{"helm/istiod.values.yaml", `ENABLE_CA_SERVER: "false"`, `ENABLE_CA_SERVER: "true"`, "ENABLE_CA_SERVER"},
		{"helm/istiod.values.yaml", "caAddress: ", "caAddress: istiod.istio-system.svc:15012\n  unused: ", "caAddress"},
	} {
		t.Run(tc.want+"/"+tc.file, func(t *testing.T) {
			m, dir := renderExample(t, filepath.Join("..", "examples", "istio-csr", "mesh.yaml"))
			if err := Verify(m, dir); err != nil {
				t.Fatalf("unmutated: %v", err)
			}
			p := filepath.Join(dir, m.Spec.Clusters[0].Name, tc.file)
			data, err := os.ReadFile(p)
			if err != nil || !strings.Contains(string(data), tc.old) {
				t.Fatalf("%s does not hold %q (%v)", p, tc.old, err)
			}
			if err := os.WriteFile(p, []byte(strings.Replace(string(data), tc.old, tc.new, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			err = errorsOf(VerifyIstioCSR(m, dir), VerifyCertManager(m, dir))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("mutated %q → %q: %v, want a finding with %q", tc.old, tc.new, err, tc.want)
			}
		})
	}
}

func errorsOf(errs ...error) error { return errors.Join(errs...) }
