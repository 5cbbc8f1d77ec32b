package compiler_test

import (
	"cmp"
	"encoding/base64"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"

	"meshc.dev/meshc/certs"
	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/internal/fakecluster"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/output"
	"meshc.dev/meshc/render"
)

// fleet runs plans with bash against fake clusters.
type fleet struct {
	bash, bin  string
	certs, tmp string
}

// newFleet puts stand-ins for kubectl, istioctl and helm on a PATH and
// writes intermediate CAs for clusters.
func newFleet(t *testing.T, clusters []string) *fleet {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash to run plans with")
	}
	f := &fleet{bash: bash, bin: fakecluster.Tools(t), tmp: t.TempDir()}
	f.certs = filepath.Join(f.tmp, "certs")
	if _, err := certs.Generate(certs.Options{Dir: f.certs, Mesh: "fleet", Clusters: clusters, KeyBits: 2048}); err != nil {
		t.Fatal(err)
	}
	return f
}

// run runs a plan script against the clusters whose state is in dir; it
// returns the script's output and its error.
func (f *fleet) run(script, state string, env ...string) (string, error) {
	cmd := exec.Command(f.bash, script)
	cmd.Dir = f.tmp
	cmd.Env = append(os.Environ(), "PATH="+f.bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"CERTS_DIR="+f.certs, fakecluster.StateVar+"="+state,
		// The fake istioctl stands for every release's.
		render.IstioctlPreviousVar+"=istioctl")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// changeCase is a revision pair of testdata/changes that a plan makes.
type changeCase struct {
	name     string
	old, new *mesh.Mesh
	reissued []string
}

func changeCases(t *testing.T) []changeCase {
	t.Helper()
	paths, _ := filepath.Glob("testdata/changes/*.txtar")
	var cases []changeCase
	for _, p := range paths {
		a, err := txtar.ParseFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sections := map[string][]byte{}
		for _, f := range a.Files {
			sections[f.Name] = f.Data
		}
		c := changeCase{name: strings.TrimSuffix(filepath.Base(p), ".txtar")}
		if c.old, err = compiler.Vet("old.yaml", sections["old.yaml"]); err != nil {
			t.Fatal(err)
		}
		if c.new, err = compiler.Vet("new.yaml", sections["new.yaml"]); err != nil {
			t.Fatal(err)
		}
		if r := strings.TrimSpace(string(sections["reissued"])); r != "" {
			c.reissued = strings.Split(r, "\n")
		}
		if _, err := render.BuildChangePlan(c.old, c.new, render.ChangeOptions{}); errors.As(err, new(*render.RefusedChange)) {
			continue
		}
		cases = append(cases, c)
	}
	return cases
}

// installKey is, for a Kept install, the fake clusters' name of it.
var installKey = map[string]string{
	"istioctl install install/istio.yaml":            "istioctl control-plane",
	"istioctl install install/eastwest-gateway.yaml": "istioctl eastwest",
	"helm release istio-base":                        "helm istio-base",
	"helm release istiod":                            "helm istiod",
	"helm release istio-eastwestgateway":             "helm istio-eastwestgateway",
}

// TestChangePlansOnClusters runs each change case of testdata/changes with
// bash against fake clusters (changeOnClusters, takenOver). Together the
// cases must take out (or keep, with the reason) every kind of object and
// install any example's plan puts into a cluster: a new kind of output is a
// new removal to plan and a new case.
func TestChangePlansOnClusters(t *testing.T) {
	cases := changeCases(t)
	names := map[string]bool{}
	for _, c := range cases {
		for _, m := range []*mesh.Mesh{c.old, c.new} {
			for _, n := range m.ClusterNames() {
				names[n] = true
			}
		}
	}
	examples, _ := filepath.Glob("../examples/*/mesh.yaml")
	var exampleMeshes []*mesh.Mesh
	for _, p := range examples {
		m, _, err := compiler.Compile(p, mustRead(t, p))
		if err != nil {
			t.Fatal(err)
		}
		exampleMeshes = append(exampleMeshes, m)
		for _, n := range m.ClusterNames() {
			names[n] = true
		}
	}
	f := newFleet(t, slices.Sorted(maps.Keys(names)))

	var mu sync.Mutex
	covered := map[string]bool{} // what some case took out or kept: a resource, or an install
	ran := 0
	t.Run("cases", func(t *testing.T) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				removed := f.changeOnClusters(t, c)
				mu.Lock()
				defer mu.Unlock()
				ran++
				for _, r := range removed {
					covered[r] = true
				}
			})
		}
	})
	if ran < len(cases) {
		return // -run chose some cases: coverage is the whole set's
	}
	for _, m := range exampleMeshes {
		dir := f.render(t, "example-"+m.Metadata.Name, m)
		for _, cl := range load(t, f.state(t, filepath.Join(dir, render.PlanScript))) {
			for k, o := range cl.Objects {
				if what := cmp.Or(o.InstalledBy, strings.Fields(k)[0]); !covered[what] {
					t.Errorf("example %s puts %s into a cluster (%s); no change case takes one out or keeps it", m.Metadata.Name, k, what)
				}
			}
			for k := range cl.Installs {
				if !covered[k] {
					t.Errorf("example %s installs %s; no change case removes one", m.Metadata.Name, k)
				}
			}
		}
	}
}

// changeOnClusters runs the old mesh's plan.sh, then the change plan: every
// kube context must then hold exactly what the new mesh's plan.sh puts into
// an empty one, except what the change plan lists as kept. It returns what
// the change took out or kept: resources, istioctl installs, Helm releases.
func (f *fleet) changeOnClusters(t *testing.T, c changeCase) []string {
	oldDir, newDir := f.render(t, c.name+"-old", c.old), f.render(t, c.name+"-new", c.new)
	p, err := render.BuildChangePlan(c.old, c.new, render.ChangeOptions{Reissued: c.reissued})
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(f.tmp, c.name+"-change.sh")
	sh, err := render.RenderPlanShell(p, render.ShellOptions{OutDir: newDir})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, sh, 0o755); err != nil {
		t.Fatal(err)
	}

	env := f.runningRoot(t, c)
	changed := f.state(t, filepath.Join(oldDir, render.PlanScript), env...)
	before := load(t, changed)
	if out, err := f.run(script, changed, append(env, "MESHC_ALLOW_DESTRUCTIVE=1")...); err != nil {
		t.Fatalf("change plan: %v\n%s", err, out)
	}
	got := load(t, changed)
	// Every step is idempotent: the plan run again, as its messages say to
	// after a failure, succeeds and changes nothing.
	if out, err := f.run(script, changed, append(env, "MESHC_ALLOW_DESTRUCTIVE=1")...); err != nil {
		t.Fatalf("change plan, run again: %v\n%s", err, out)
	}
	if diff := gocmp.Diff(nonEmpty(got), nonEmpty(load(t, changed))); diff != "" {
		t.Errorf("the change plan run again changed the clusters (-first run +second):\n%s", diff)
	}
	for _, k := range p.Kept {
		what := cmp.Or(installKey[k.What], k.What)
		cl := got.Cluster(k.Context)
		n := len(cl.Objects) + len(cl.Installs)
		delete(cl.Objects, what)
		delete(cl.Installs, what)
		maps.DeleteFunc(cl.Objects, func(_ string, o fakecluster.Object) bool { return o.InstalledBy == what })
		if len(cl.Objects)+len(cl.Installs) == n {
			t.Errorf("kept %s in %s: not in the cluster", k.What, k.Context)
		}
	}
	want := load(t, f.state(t, filepath.Join(newDir, render.PlanScript)))
	if diff := gocmp.Diff(nonEmpty(want), nonEmpty(got)); diff != "" {
		t.Errorf("old plan + change plan (+) differs from the new plan (-), kept aside:\n%s", diff)
	}
	var removed []string
	for ctx, cl := range before {
		for k, o := range cl.Objects {
			if _, ok := got.Cluster(ctx).Objects[k]; !ok {
				removed = append(removed, cmp.Or(o.InstalledBy, strings.Fields(k)[0]))
			}
		}
		for k := range cl.Installs {
			if _, ok := got.Cluster(ctx).Installs[k]; !ok {
				removed = append(removed, k)
			}
		}
	}
	if p.Destructive() {
		f.takenOver(t, script, before, strings.Contains(string(sh), " wait namespace/istio-system "))
	}
	return removed
}

// runningRoot is, for a change that moves the intermediates from meshc's
// files to cert-manager, the environment the old mesh's plan and the change
// plan run with: a CERTS_DIR whose cacerts hold, as root-cert.pem, the root
// the new Mesh says the workloads run under (its previousRoot, or its
// root), as meshc certs' would after the user imported that root into their
// CA. The fake clusters check no chain, so the other keys are placeholders
// and no key is generated.
func (f *fleet) runningRoot(t *testing.T, c changeCase) []string {
	if c.old.Spec.CA.Issuer != mesh.IssuerMeshc || !c.new.WritesCACerts() {
		return nil
	}
	root := c.new.Spec.CA.Root.PEM
	if r := c.new.Spec.CA.PreviousRoot; r != nil {
		root = r.PEM
	}
	dir := t.TempDir()
	for _, name := range c.old.ClusterNames() {
		secret := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: cacerts\n  namespace: istio-system\n  labels:\n    app.kubernetes.io/managed-by: meshc\ntype: Opaque\ndata:\n" +
			"  ca-key.pem: " + base64.StdEncoding.EncodeToString([]byte("placeholder")) + "\n" +
			"  root-cert.pem: " + base64.StdEncoding.EncodeToString([]byte(root)) + "\n"
		if err := os.MkdirAll(filepath.Join(dir, name), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "cacerts.yaml"), []byte(secret), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return []string{"CERTS_DIR=" + dir}
}

// takenOver runs the change plan on clusters the old plan left as before,
// after someone else took them over: no object carries meshc's label, no
// istio-system names the cluster meshc installed there. The plan must delete
// nothing, and stop at its first install removal (guarded) with an error.
func (f *fleet) takenOver(t *testing.T, script string, before fakecluster.State, guarded bool) {
	taken := t.TempDir()
	for _, cl := range before {
		for _, o := range cl.Objects {
			o.SetLabel(render.ManagedByLabel, "")
			if o.Labels()[render.ClusterLabel] != "" {
				o.SetLabel(render.ClusterLabel, "someone-else")
			}
		}
	}
	if err := before.Save(taken); err != nil {
		t.Fatal(err)
	}
	out, err := f.run(script, taken, "MESHC_ALLOW_DESTRUCTIVE=1")
	if guarded == (err == nil) {
		t.Errorf("change plan on clusters meshc did not install: error %v, want one exactly when the plan removes an install:\n%s", err, out)
	}
	after := load(t, taken)
	for ctx, cl := range before {
		for k := range cl.Objects {
			if _, ok := after[ctx].Objects[k]; !ok {
				t.Errorf("%s: deleted %s, which does not carry meshc's label", ctx, k)
			}
		}
		for k := range cl.Installs {
			if _, ok := after[ctx].Installs[k]; !ok {
				t.Errorf("%s: removed %s from a context whose istio-system names another cluster", ctx, k)
			}
		}
	}
}

// render writes m's output into a directory of the fleet.
func (f *fleet) render(t *testing.T, name string, m *mesh.Mesh) string {
	t.Helper()
	out, err := render.Render(m)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(f.tmp, name)
	if err := output.Write(out, dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// state runs script on empty clusters and returns the
// directory of the state it leaves.
func (f *fleet) state(t *testing.T, script string, env ...string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := f.run(script, dir, env...); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	return dir
}

func load(t *testing.T, dir string) fakecluster.State {
	t.Helper()
	s, err := fakecluster.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// nonEmpty drops contexts that hold nothing.
func nonEmpty(s fakecluster.State) fakecluster.State {
	out := fakecluster.State{}
	for ctx, cl := range s {
		if len(cl.Objects)+len(cl.Installs) > 0 {
			out[ctx] = cl
		}
	}
	return out
}
