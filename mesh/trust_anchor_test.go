package mesh

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

// TestTrustAnchorProblem: a root every chain can verify up to is a CA,
// self-signed, allowed to sign, with room for an intermediate, and valid
// now; each way a certificate falls short is named (found by the input
// adversary: pathlen 0, expired and not-yet-valid roots passed).
func TestTrustAnchorProblem(t *testing.T) {
	now := time.Now()
	root := func(edit func(*x509.Certificate)) string {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Root CA"},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
		if edit != nil {
			edit(tmpl)
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	}
	good := root(nil)
	for _, c := range []struct{ name, pem, want string }{
		{"a root", good, ""},
		{"a bundle of roots", good + root(nil), ""},
		{"pathlen 0", root(func(c *x509.Certificate) { c.MaxPathLen, c.MaxPathLenZero = 0, true }), "with pathlen 0"},
		{"expired", root(func(c *x509.Certificate) { c.NotBefore, c.NotAfter = now.Add(-48*time.Hour), now.Add(-24*time.Hour) }), "that expired on"},
		{"not yet valid", root(func(c *x509.Certificate) { c.NotBefore, c.NotAfter = now.Add(24*time.Hour), now.Add(48*time.Hour) }), "that is not valid before"},
		{"no keyCertSign", root(func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageDigitalSignature }), "cannot sign certificates"},
		{"not a CA", root(func(c *x509.Certificate) { c.IsCA = false }), "not a CA"},
		{"a broken block first", "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n" + good, "does not decode"},
	} {
		got := TrustAnchorProblem(c.pem)
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
