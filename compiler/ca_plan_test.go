package compiler_test

import (
	"path/filepath"
	"strings"
	"testing"

	"meshc.dev/meshc/certs"
	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/internal/fakecluster"
	"meshc.dev/meshc/render"
)

// TestVerifyRootStopsOnAnotherRoot runs the cert-manager example's plan.sh
// against fake clusters whose cert-manager issues under another root than
// the Mesh's: the plan stops in verify-root, naming the cluster and MC066,
// before any istiod is installed. Under the Mesh's root it runs through.
func TestVerifyRootStopsOnAnotherRoot(t *testing.T) {
	p := "../examples/cert-manager-vault/mesh.yaml"
	m, _, err := compiler.Compile(p, mustRead(t, p))
	if err != nil {
		t.Fatal(err)
	}
	f := newFleet(t, m.ClusterNames())
	dir := f.render(t, "cert-manager", m)
	script := filepath.Join(dir, render.PlanScript)
	if out, err := f.run(script, t.TempDir()); err != nil {
		t.Fatalf("plan under the Mesh's root: %v\n%s", err, out)
	}

	other := filepath.Join(t.TempDir(), "other")
	if _, err := certs.Generate(certs.Options{Dir: other, Mesh: "other", KeyBits: 2048}); err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	out, err := f.run(script, state, fakecluster.CARootVar+"="+filepath.Join(other, "root-cert.pem"))
	if err == nil {
		t.Fatalf("plan under another root succeeded:\n%s", out)
	}
	if !strings.Contains(out, "plan: cluster cluster1: ca.crt of istio-system/cacerts is not the mesh's root") || !strings.Contains(out, "[MC066]") {
		t.Errorf("plan under another root stopped without naming the root:\n%s", out)
	}
	s, err := fakecluster.Load(state)
	if err != nil {
		t.Fatal(err)
	}
	for ctx, cl := range s {
		if len(cl.Installs) > 0 {
			t.Errorf("%s: installed %v before the roots were compared", ctx, cl.Installs)
		}
	}
}
