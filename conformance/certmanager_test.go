package conformance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyCertManagerFindings shows the cert-manager check can fail: each
// mutation of a rendered ca/cert-manager.yaml or root-cert.pem is a finding
// that names what is wrong.
func TestVerifyCertManagerFindings(t *testing.T) {
	for _, tc := range []struct {
		example, file, old, new, want string
	}{
		{"cert-manager-vault", "cert-manager.yaml", "path: pki/root/sign-intermediate", "path: pki/other/sign", "the Mesh says"},
		{"cert-manager-vault", "cert-manager.yaml", "  isCA: true", "  isCA: false", "want a CA into cacerts"},
		{"cert-manager-vault", "cert-manager.yaml", `verbs: ["create"]`, `verbs: ["get"]`, "create tokens"},
		{"cert-manager-vault", "cert-manager.yaml", "    rotationPolicy: Always", "    rotationPolicy: Sometimes", "rotationPolicy"},
		{"cert-manager-vault", "cert-manager.yaml", "  secretName: cacerts", "  secretName: cacerts\n  unknownField: 1", "unknownField"},
		{"cert-manager-ca", "cert-manager.yaml", "secretName: mesh-intermediate", "secretName: other", "CA Secret mesh-intermediate"},
		{"cert-manager-ca", "root-cert.pem", "-----BEGIN CERTIFICATE-----\nM", "-----BEGIN CERTIFICATE-----\nN", "root"},
	} {
		t.Run(tc.example+"/"+tc.want, func(t *testing.T) {
			m, dir := renderExample(t, filepath.Join("..", "examples", tc.example, "mesh.yaml"))
			if err := VerifyCertManager(m, dir); err != nil {
				t.Fatalf("unmutated: %v", err)
			}
			p := filepath.Join(dir, m.Spec.Clusters[0].Name, "ca", tc.file)
			data, err := os.ReadFile(p)
			if err != nil || !strings.Contains(string(data), tc.old) {
				t.Fatalf("%s does not hold %q (%v)", p, tc.old, err)
			}
			if err := os.WriteFile(p, []byte(strings.Replace(string(data), tc.old, tc.new, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			err = VerifyCertManager(m, dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("mutated %q → %q: %v, want a finding with %q", tc.old, tc.new, err, tc.want)
			}
		})
	}
}

// TestVerifyRootMoveFindings: while the root moves, a control plane whose
// mesh config leaves out the previous root, or that does not hand out the
// roots (ISTIO_MULTIROOT_MESH), is a finding.
func TestVerifyRootMoveFindings(t *testing.T) {
	const example = "testdata/cert-manager-root-move.yaml"
	m, clean := renderExample(t, example)
	if err := Verify(m, clean); err != nil {
		t.Fatalf("unmutated: %v", err)
	}
	values, err := os.ReadFile(filepath.Join(clean, "cluster1", "helm", "istiod.values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"previous root left out", pemIn(t, string(values), m.Spec.CA.PreviousRoot.PEM), pemIn(t, string(values), m.Spec.CA.Root.PEM), "lacks spec.ca.previousRoot"},
		{"roots not handed out", `ISTIO_MULTIROOT_MESH: "true"`, `ISTIO_MULTIROOT_MESH: "false"`, `ISTIO_MULTIROOT_MESH: got "false", want "true"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(clean)); err != nil {
				t.Fatal(err)
			}
			edit(t, dir, "cluster1/helm/istiod.values.yaml", tc.old, tc.new)
			err := Verify(m, dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("mutated %q → %q: %v, want a finding with %q", tc.old, tc.new, err, tc.want)
			}
		})
	}
}

// pemIn is the block of text, as the rendered file indents it, that holds
// the certificate of pemText.
func pemIn(t *testing.T, file, pemText string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(pemText), "\n")
	first := strings.Index(file, lines[1])
	if first < 0 {
		t.Fatalf("the file does not hold the certificate %s…", lines[1])
	}
	start := strings.LastIndex(file[:first], "\n") + 1
	end := first + strings.Index(file[first:], lines[len(lines)-2]) + len(lines[len(lines)-2])
	return file[start:end]
}
