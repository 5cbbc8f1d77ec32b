package mesh

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"time"
)

// PEMBlock is the trust anchor as a YAML block scalar body, every line
// indented by indent spaces, trailing newline dropped: its certificates,
// PEM-encoded afresh. Only the BEGIN and END lines and base64 reach the
// output; the headers, blank lines and spaces a trust anchor may hold around
// its certificates (MC048 allows them) stay behind, so no text of the input
// is written into the YAML.
func (a TrustAnchor) PEMBlock(indent int) string {
	pad := strings.Repeat(" ", indent)
	var b strings.Builder
	rest := []byte(a.PEM)
	for {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			break
		}
		for line := range strings.Lines(string(pem.EncodeToMemory(&pem.Block{Type: blk.Type, Bytes: blk.Bytes}))) {
			b.WriteString(pad + line)
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// TrustAnchorProblem explains why pemText is not a usable root of trust, or
// returns "": every certificate a CA, self-signed, able to sign, with room
// for an intermediate below it, and valid now. Istio accepts any parseable CA certificate: a leaf, a key or
// an intermediate would fail every handshake with the peer, at runtime
// (Envoy's BoringSSL verifies a chain up to a self-signed root of its
// trust bundle, without partial chains: an intermediate there anchors
// nothing).
func TrustAnchorProblem(pemText string) string {
	rest := []byte(pemText)
	n := 0
	for {
		// pem.Decode skips text around blocks; a trust anchor holds none.
		if i := bytes.Index(rest, []byte("-----BEGIN")); i > 0 && len(bytes.TrimSpace(rest[:i])) > 0 {
			return "has text outside its certificates"
		}
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return "holds a " + b.Type + " block; a trust anchor holds only CERTIFICATE blocks (never a key)"
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return "holds a certificate that does not parse: " + err.Error()
		}
		if !c.IsCA {
			return "holds a certificate that is not a CA (" + c.Subject.String() + "); give the root CA certificate"
		}
		if !bytes.Equal(c.RawSubject, c.RawIssuer) {
			return "holds a certificate that is not self-signed (" + c.Subject.String() + ", issued by " + c.Issuer.String() + "): give the root CA itself, not an intermediate (a chain is verified up to a self-signed root)"
		}
		if err := c.CheckSignatureFrom(c); err != nil {
			return "holds a root (" + c.Subject.String() + ") that cannot sign certificates: " + err.Error()
		}
		if c.MaxPathLenZero {
			return "holds a root (" + c.Subject.String() + ") with pathlen 0: no intermediate CA may sign under it, and every Istio chain runs root, intermediate, workload"
		}
		if now := time.Now(); now.After(c.NotAfter) {
			return "holds a root (" + c.Subject.String() + ") that expired on " + c.NotAfter.UTC().Format(time.DateOnly) + ": every chain under it fails verification"
		} else if now.Before(c.NotBefore) {
			return "holds a root (" + c.Subject.String() + ") that is not valid before " + c.NotBefore.UTC().Format(time.DateOnly) + ": every chain under it fails verification until then"
		}
		n++
	}
	if n == 0 {
		return "holds no PEM certificate; give the root CA certificate"
	}
	if strings.TrimSpace(string(rest)) != "" {
		return "has text after its last certificate"
	}
	// pem.Decode passes over a block it cannot read and goes on to the next.
	if bytes.Count([]byte(pemText), []byte("-----BEGIN")) != n {
		return "holds a PEM block that does not decode"
	}
	return ""
}
