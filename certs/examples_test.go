package certs_test

import (
	"crypto/x509"
	"path/filepath"
	"testing"

	"meshc.dev/meshc/certs"
	"meshc.dev/meshc/mesh"
)

// TestExamples gives every example mesh's clusters an intermediate under
// one root and checks the chain each cluster's istiod would load.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob("../examples/*/mesh.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	src := base(t) // reuse its root: only intermediates are generated here
	root := readCert(t, filepath.Join(src, certs.RootCertFile))
	pool := x509.NewCertPool()
	pool.AddCert(root)
	for _, f := range files {
		ex := filepath.Base(filepath.Dir(f))
		t.Run(ex, func(t *testing.T) {
			m, err := mesh.LoadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var clusters []string
			for _, c := range m.Spec.Clusters {
				clusters = append(clusters, c.Name)
			}
			dir := filepath.Join(t.TempDir(), "certs")
			_, err = certs.Generate(certs.Options{Mesh: "demo", Dir: dir, Clusters: clusters, KeyBits: testBits,
				RootCert: filepath.Join(src, certs.RootCertFile), RootKey: filepath.Join(src, certs.RootKeyFile)})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range clusters {
				chain := readChain(t, filepath.Join(dir, c, certs.CertChainFile))
				inter := x509.NewCertPool()
				for _, ca := range chain[1:] {
					inter.AddCert(ca)
				}
				if _, err := chain[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
					t.Errorf("%s: cert-chain.pem does not verify against the shared root: %v", c, err)
				}
				if chain[0].Subject.Locality[0] != c {
					t.Errorf("%s: intermediate names %v", c, chain[0].Subject.Locality)
				}
			}
			if fs, err := certs.Verify(certs.VerifyOptions{Dir: dir, Clusters: clusters}); err != nil || len(fs) != 0 {
				t.Errorf("Check: %v %v", fs, err)
			}
		})
	}
}
