package compiler_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"meshc.dev/meshc/internal/fakecluster"
	"meshc.dev/meshc/render"
)

// A change plan that no longer needs a stub Service deletes it by meshc's
// label; a Service that took the stub's place keeps that label when it was
// server-side applied over it (as Flux applies), so the plan deletes the
// stub only while it has no selector: a user's Service, with its selector,
// stays, and the plan says so.
func TestStubTakenOverStays(t *testing.T) {
	var c changeCase
	for _, cc := range changeCases(t) {
		if cc.name == "stub-replaced" {
			c = cc
		}
	}
	if c.old == nil {
		t.Fatal("no change case stub-replaced")
	}
	f := newFleet(t, c.old.ClusterNames())
	oldDir, newDir := f.render(t, "old", c.old), f.render(t, "new", c.new)
	p, err := render.BuildChangePlan(c.old, c.new, render.ChangeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sh, err := render.RenderPlanShell(p, render.ShellOptions{OutDir: newDir})
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(f.tmp, "change.sh")
	if err := os.WriteFile(script, sh, 0o755); err != nil {
		t.Fatal(err)
	}
	stub := fakecluster.Key("service", "sample", "reviews")
	for _, takenOver := range []bool{false, true} {
		state := f.state(t, filepath.Join(oldDir, render.PlanScript))
		s := load(t, state)
		var ctx string
		for c, cl := range s {
			if o, ok := cl.Objects[stub]; ok {
				ctx = c
				if takenOver {
					spec, _ := o.Doc["spec"].(map[string]any)
					spec["selector"] = map[string]any{"app": "reviews"}
				}
			}
		}
		if ctx == "" {
			t.Fatalf("the old plan made no stub %s", stub)
		}
		if err := s.Save(state); err != nil {
			t.Fatal(err)
		}
		out, err := f.run(script, state, "MESHC_ALLOW_DESTRUCTIVE=1")
		if err != nil {
			t.Fatalf("change plan: %v\n%s", err, out)
		}
		_, stays := load(t, state).Cluster(ctx).Objects[stub]
		if stays != takenOver {
			t.Errorf("taken over %v: %s in %s stays %v, want %v\n%s", takenOver, stub, ctx, stays, takenOver, out)
		}
		if said := strings.Contains(out, "it is no longer meshc's stub but your Service"); said != takenOver {
			t.Errorf("taken over %v: the plan says the Service is the user's: %v\n%s", takenOver, said, out)
		}
	}
}
