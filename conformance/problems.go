package conformance

import (
	"cuelang.org/go/cue/token"

	"meshc.dev/meshc/diag"
)

// Findings are diag.Problems, meshc's one diagnostic, printed by diag.Print
// like vet's and render --check's: the file of the rendered output at fault
// (relative to the output directory; none for the output as a whole), the
// check that found it in place of a rule ID, and the message.
const (
	// CheckAcceptance is Verify: Istio's installers, validation and
	// decoding accept each cluster's files, and the facts across them hold.
	CheckAcceptance = "conformance:accept"
	// CheckCertManager is VerifyCertManager: cert-manager's types and CRDs.
	CheckCertManager = "conformance:cert-manager"
	// CheckIstioCSR is VerifyIstioCSR: istio-csr's values against its
	// chart's schema and the Mesh, and Istio's CA settings.
	CheckIstioCSR = "conformance:istio-csr"
	// CheckGitOps is VerifyGitOps: the engines' APIs, references and order.
	CheckGitOps = "conformance:gitops"
	// CheckBehaviour is VerifyBehaviour: what Istio's discovery server sends
	// every proxy, checked as Envoy would and against the Mesh.
	CheckBehaviour = "conformance:behaviour"
	// CheckPeers is VerifyPeers: two federated meshes together.
	CheckPeers = "conformance:peers"
	// CheckCanary is VerifyCanary: two revisions of the control plane side
	// by side, and which one each namespace's pods are injected and served
	// by.
	CheckCanary = "conformance:canary"
)

// problemAt is one Problem of check about file.
func problemAt(check, file, message string) diag.Problem {
	return diag.Problem{Pos: token.Position{Filename: file}, Rule: check, Message: message}
}

// problemsOf flattens err (Problems, errors.Join trees of them and of plain
// errors) into Problems, in order; a plain error becomes a Problem of check
// about the output as a whole. nil gives none.
func problemsOf(check string, err error) diag.Problems {
	var ps diag.Problems
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if p, ok := err.(diag.Problems); ok {
			ps = append(ps, p...)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		ps = append(ps, problemAt(check, "", err.Error()))
	}
	walk(err)
	return ps
}
