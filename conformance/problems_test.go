package conformance

import (
	"bytes"
	"encoding/json"
	"testing"

	"meshc.dev/meshc/diag"
)

// TestFindingsAreProblems: every entry point's findings are diag.Problems,
// each naming the file at fault and the check that found it, so diag.Print
// prints them as it prints vet's and render --check's.
func TestFindingsAreProblems(t *testing.T) {
	m, dir := renderExample(t, "../examples/primary-remote-multi-network/mesh.yaml")
	edit(t, dir, "cluster1/manifests/cross-network-gateway.yaml", "istio: eastwestgateway", "istio: eastwest")
	err := Verify(m, dir)
	ps, ok := err.(diag.Problems)
	if !ok || len(ps) == 0 {
		t.Fatalf("Verify returns %T, want diag.Problems: %v", err, err)
	}
	found := false
	for _, p := range ps {
		if p.Rule != CheckAcceptance {
			t.Errorf("%v: check %q, want %q", p, p.Rule, CheckAcceptance)
		}
		found = found || p.Pos.Filename == "cluster1/manifests/cross-network-gateway.yaml"
	}
	if !found {
		t.Errorf("no problem names cluster1/manifests/cross-network-gateway.yaml:\n%v", ps)
	}
	var b bytes.Buffer
	if err := diag.Print(&b, ps, "json"); err != nil {
		t.Fatal(err)
	}
	var printed []struct{ File, Rule, Message string }
	if err := json.Unmarshal(b.Bytes(), &printed); err != nil || len(printed) != len(ps) || printed[0].Rule != CheckAcceptance {
		t.Errorf("diag.Print json: %v\n%s", err, b.String())
	}

	// The other entry points return the same type, about their own check.
	m, dir = renderExample(t, "../examples/multi-primary-multi-network/mesh.yaml")
	edit(t, dir, "cluster1/manifests/cross-network-gateway.yaml", "AUTO_PASSTHROUGH", "ISTIO_MUTUAL")
	err = VerifyBehaviour(m, dir)
	if ps, ok := err.(diag.Problems); !ok || len(ps) == 0 || ps[0].Rule != CheckBehaviour {
		t.Errorf("VerifyBehaviour returns %T %v, want diag.Problems of %s", err, err, CheckBehaviour)
	}
}
