package mesh

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"strings"
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
// returns "". Istio accepts any parseable CA certificate: a leaf, a key or
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
			return "holds a certificate that is not a CA (" + c.Subject.String() + "); give the peer's root CA, as meshc certs --export writes it"
		}
		if !selfSigned(c) {
			return "holds a certificate that is not self-signed (" + c.Subject.String() + ", issued by " + c.Issuer.String() + "): give the root CA itself, not an intermediate (a chain is verified up to a self-signed root)"
		}
		n++
	}
	if n == 0 {
		return "holds no PEM certificate; give the peer's root CA, as meshc certs --export writes it"
	}
	if strings.TrimSpace(string(rest)) != "" {
		return "has text after its last certificate"
	}
	return ""
}

// selfSigned reports whether c is a root: its issuer is its subject and its
// own key verifies its signature.
func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(c) == nil
}
