package compiler_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"meshc.dev/meshc/internal/fakecluster"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/render"
)

// A change plan that no longer needs a stub Service deletes it by meshc's
// label; a Service that took the stub's place keeps that label when it was
// server-side applied over it (as Flux applies), so the plan deletes the
// stub only while it has no selector: a user's Service, with its selector,
// stays, and the plan says so.
func TestStubTakenOverStays(t *testing.T) {
	stub := fakecluster.Key("service", "sample", "reviews")
	for _, to := range takeovers {
		ctx, got, out := changeWithStub(t, "stub-replaced", stub, to.apply)
		takenOver := to.apply != nil
		if _, stays := got.Cluster(ctx).Objects[stub]; stays != takenOver {
			t.Errorf("%s: %s in %s stays %v, want %v\n%s", to.name, stub, ctx, stays, takenOver, out)
		}
		if said := strings.Contains(out, "is no longer meshc's stub (it has a selector or another type) but your Service"); said != takenOver {
			t.Errorf("%s: the plan says the Service is the user's: %v\n%s", to.name, said, out)
		}
	}
}

// A stub the user deleted before the change plan: the plan has nothing to
// delete and goes on.
func TestStubGoneBeforeThePlan(t *testing.T) {
	stub := fakecluster.Key("service", "sample", "reviews")
	ctx, got, out := changeWithStub(t, "stub-replaced", stub, func(cl *fakecluster.Cluster) { delete(cl.Objects, stub) })
	if _, there := got.Cluster(ctx).Objects[stub]; there {
		t.Errorf("%s is back in %s\n%s", stub, ctx, out)
	}
	if strings.Contains(out, "your Service") {
		t.Errorf("the plan takes a missing Service for the user's\n%s", out)
	}
}

// takeovers are the ways a user's Service takes a stub's place: applied
// server-side over it (as Flux applies), it keeps meshc's label and gains
// a selector, or becomes an ExternalName (no selector).
var takeovers = []struct {
	name  string
	apply func(cl *fakecluster.Cluster)
}{
	{"still a stub", nil},
	{"a selector", func(cl *fakecluster.Cluster) {
		spec(cl)["selector"] = map[string]any{"app": "reviews"}
	}},
	{"an ExternalName", func(cl *fakecluster.Cluster) {
		s := spec(cl)
		s["type"], s["externalName"] = "ExternalName", "reviews.example.com"
	}},
}

// spec is the spec of sample/reviews in cl.
func spec(cl *fakecluster.Cluster) map[string]any {
	s, _ := cl.Objects[fakecluster.Key("service", "sample", "reviews")].Doc["spec"].(map[string]any)
	return s
}

// A Service that took a stub's place carries the stub's ambient labels; when
// the new Mesh makes the service cluster-local without a waypoint, the plan
// takes them off, as the new Mesh's plan would never set them.
func TestTakenOverStubLosesDroppedLabels(t *testing.T) {
	stub := fakecluster.Key("service", "sample", "reviews")
	ctx, got, out := changeWithStub(t, "ambient-stub-becomes-local", stub, takeovers[1].apply)
	o, ok := got.Cluster(ctx).Objects[stub]
	if !ok {
		t.Fatalf("the Service that took the stub's place in %s was deleted\n%s", ctx, out)
	}
	for _, k := range []string{mesh.GlobalLabel, mesh.UseWaypointLabel} {
		if v, has := o.Labels()[k]; has {
			t.Errorf("%s in %s keeps %s=%s, which the new Mesh no longer sets\n%s", stub, ctx, k, v, out)
		}
	}
}

// changeWithStub runs the change case's old plan.sh, applies takeOver (if
// any) to the cluster that holds the stub Service stub, runs the change
// plan, and returns the stub's context and the clusters after.
func changeWithStub(t *testing.T, name, stub string, takeOver func(*fakecluster.Cluster)) (string, fakecluster.State, string) {
	t.Helper()
	var ctx string
	got, out, err := changeAfter(t, name, func(s fakecluster.State) {
		for cx, cl := range s {
			if _, ok := cl.Objects[stub]; ok {
				ctx = cx
				if takeOver != nil {
					takeOver(cl)
				}
			}
		}
		if ctx == "" {
			t.Fatalf("the old plan made no stub %s", stub)
		}
	})
	if err != nil {
		t.Fatalf("change plan: %v\n%s", err, out)
	}
	return ctx, got, out
}

// changeAfter runs the change case's old plan.sh, lets prepare change what
// the clusters hold (as users and their workloads do), runs the change
// plan, and returns the clusters after, its output and how it ended.
func changeAfter(t *testing.T, name string, prepare func(fakecluster.State)) (fakecluster.State, string, error) {
	t.Helper()
	var c changeCase
	for _, cc := range changeCases(t) {
		if cc.name == name {
			c = cc
		}
	}
	if c.old == nil {
		t.Fatalf("no change case %s", name)
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
	state := f.state(t, filepath.Join(oldDir, render.PlanScript))
	s := load(t, state)
	prepare(s)
	if err := s.Save(state); err != nil {
		t.Fatal(err)
	}
	out, err := f.run(script, state, "MESHC_ALLOW_DESTRUCTIVE=1")
	return load(t, state), out, err
}

// A service that starts running where an earlier mesh stubbed it: the
// global-services step must not label meshc's stub (the prune deletes it)
// as if it were the user's Service, but say the Service must be deployed
// with its labels; a Service that took the stub's place is labelled.
func TestStubIsNotTheUsersService(t *testing.T) {
	stub := fakecluster.Key("service", "sample", "reviews")
	for _, to := range takeovers {
		ctx, _, out := changeWithStub(t, "ambient-stub-to-runs", stub, to.apply)
		takenOver := to.apply != nil
		note := "service sample/reviews is not in cluster " + ctx + " yet"
		if said := strings.Contains(out, note); said == takenOver {
			t.Errorf("%s: the plan says %q: %v, want %v\n%s", to.name, note, said, !takenOver, out)
		}
	}
}
