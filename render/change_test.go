package render

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"meshc.dev/meshc/internal/cases"
	"meshc.dev/meshc/internal/golden"
	"meshc.dev/meshc/internal/meshgen"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/output"
	"meshc.dev/meshc/rules"
)

// TestChangePlans renders the change plan of each revision pair in
// compiler/testdata/changes (old.yaml, new.yaml, optionally the re-issued clusters)
// as Markdown, or the refusal, and compares it with the archive's want
// section; MESHC_UPDATE=1 rewrites it.
func TestChangePlans(t *testing.T) {
	pairs, err := cases.ReadDir("../compiler/testdata/changes")
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs) < 8 {
		t.Fatalf("only %d change cases", len(pairs))
	}
	for _, c := range pairs {
		t.Run(c.Name(), func(t *testing.T) {
			old, err := vet("old.yaml", c.Input("old.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			new, err := vet("new.yaml", c.Input("new.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			var opts ChangeOptions
			if r := strings.TrimSpace(string(c.Input("reissued"))); r != "" {
				opts.Reissued = strings.Split(r, "\n")
			}
			var got string
			p, err := BuildChangePlan(old, new, opts)
			var refused *RefusedChange
			switch {
			case errors.As(err, &refused):
				got = "refused:\n" + refused.Problems.Error() + "\n"
			case err != nil:
				t.Fatal(err)
			default:
				md, err := RenderPlanMarkdown(p)
				if err != nil {
					t.Fatal(err)
				}
				got = string(md)
			}
			golden.Want(t, c, []byte(got))
		})
	}
}

// TestChangePlanProperty checks change plans on generated revision pairs
// against a model of what the clusters hold: each cluster's objects and
// installs (with what the tools take from their files), remote secrets and
// cacerts. Running the old mesh's full plan and then the change plan must
// leave every cluster exactly as running the new mesh's full plan does, but
// for what the plan says it keeps, and nothing in clusters that left. The
// model reads what each step applies and removes, not its command, so it is
// independent of how commands are spelled (TestChangePlansOnClusters runs
// the commands).
func TestChangePlanProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ran := map[string]int{}
	defer func() {
		for _, what := range []string{"leave", "join", "move", "upgrade"} {
			if ran[what] < 3 {
				t.Errorf("only %d valid %q revision pairs; the property is not exercised", ran[what], what)
			}
		}
	}()
	for i := range 60 {
		topo := meshgen.Topologies[i%2]
		s := meshgen.Shape{Topology: topo, Clusters: 3 + rng.IntN(12)}
		old := mustVet(t, meshgen.Generate(s))
		newData, what := mutate(rng, meshgen.Generate(s), s)
		new, err := vet("new.yaml", newData)
		if err != nil {
			continue // a mutation that leaves an invalid mesh is not a revision pair
		}
		ran[what]++
		name := fmt.Sprintf("%s/%s", s, what)
		p, err := BuildChangePlan(old, new, ChangeOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		oldOut, _ := Render(old)
		newOut, _ := Render(new)
		state := clusters{}
		state.run(BuildPlan(old), oldOut)
		state.run(p, newOut)
		// What the plan says it keeps stays; nothing else may.
		for _, k := range p.Kept {
			delete(state[k.Cluster], k.key)
		}
		state.dropEmpty()
		want := clusters{}
		want.run(BuildPlan(new), newOut)
		if diff := cmp.Diff(want, state); diff != "" {
			t.Errorf("%s: old plan + change plan differs from the new plan (-new +old+change):\n%s", name, diff)
		}
		for _, ph := range p.Phases {
			for _, s := range ph.Steps {
				if s.Destructive != slices.Contains([]string{PhaseRemoveRemoteSecrets, PhaseReplaceGateways, PhasePrune, PhaseUninstall}, ph.ID) {
					t.Errorf("%s: step in phase %s: destructive=%v", name, ph.ID, s.Destructive)
				}
			}
		}
	}
}

func mustVet(t *testing.T, data []byte) *mesh.Mesh {
	t.Helper()
	m, err := vet("old.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// mutate changes a generated mesh the way revisions do: a cluster leaves or
// joins, moves network, or Istio is upgraded.
func mutate(rng *rand.Rand, data []byte, s meshgen.Shape) ([]byte, string) {
	y := string(data)
	last := meshgen.ClusterName(s.Clusters - 1)
	switch rng.IntN(4) {
	case 0: // the last cluster leaves
		i := strings.Index(y, "    - name: "+last+"\n")
		return dropUnusedNetworks(y[:i]), "leave"
	case 1: // a cluster joins, a remote in primary-remote meshes
		c := meshgen.ClusterName(s.Clusters)
		if s.Topology == meshgen.MultiPrimary {
			return []byte(y + "    - name: " + c + "\n      network: " + meshgen.NetworkName(0) + "\n      role: primary\n      eastWestGateway: {}\n"), "join"
		}
		return []byte(y + "    - name: " + c + "\n      network: " + meshgen.NetworkName(0) + "\n      role: remote\n      controlPlane: " + meshgen.ClusterName(0) + "\n"), "join"
	case 2: // the last cluster moves to the first network
		i := strings.Index(y, "    - name: "+last+"\n")
		rest := strings.Replace(y[i:], "network: network-", "network: network-00 #", 1)
		return dropUnusedNetworks(y[:i] + rest), "move"
	}
	return []byte(strings.Replace(y, `version: "1.28.0"`, `version: "1.29.0"`, 1)), "upgrade"
}

// dropUnusedNetworks removes declared networks no cluster sits on any more
// (MC013), as a user editing the file would.
func dropUnusedNetworks(y string) []byte {
	for n := range 10 {
		name := meshgen.NetworkName(n)
		if !strings.Contains(y, "network: "+name) {
			y = strings.Replace(y, "    - name: "+name+"\n", "", 1)
		}
	}
	return []byte(y)
}

// clusters models what each cluster holds, by what it is (holding keys):
// for each object and install a plan applies, what the tools take from it
// (kubectl and istioctl ignore comments; istioctl installs its own version,
// the Istio version of the plan); for each remote secret, the command that
// made it. A change plan's removals take out what they say they remove.
type clusters map[string]map[string]string

func effective(f string, data []byte, version string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if t := strings.TrimSpace(line); t == "" || t[0] != '#' {
			b.WriteString(line)
		}
	}
	if strings.Contains(f, "/"+InstallDir+"/") {
		b.WriteString("installed by istioctl " + version)
	}
	return b.String()
}

// run applies a plan's steps to the model; after, if given, sees each
// cluster the moment a step has changed it.
func (cs clusters) run(p *Plan, out *output.Output, after ...func(step string, held map[string]string)) {
	for _, ph := range p.Phases {
		for _, s := range ph.Steps {
			if cs[s.Cluster] == nil {
				cs[s.Cluster] = map[string]string{}
			}
			held := cs[s.Cluster]
			switch {
			case ph.ID == PhaseRemoteSecrets:
				held["secret "+IstioNamespace+"/"+RemoteSecretName(s.Source)] = s.Command
			case ph.ID == PhaseCACerts:
				held["secret "+IstioNamespace+"/"+CACertsSecret] = "cacerts"
			case s.Destructive:
				for _, k := range s.removes {
					delete(held, k)
				}
			case ph.ID == PhaseVMFiles:
			default:
				for _, f := range s.Applies() {
					data := out.Lookup(f).Data
					if dir := strings.Split(f, "/")[1]; dir == InstallDir || dir == HelmDir {
						held["install "+strings.SplitN(f, "/", 2)[1]] = effective(f, data, p.IstioVersion)
						continue
					}
					for _, doc := range bytes.Split(data, []byte("\n---\n")) {
						for _, obj := range objectsOf(&output.File{Data: doc}) {
							held[holding{obj: obj}.key()] = effective(f, doc, p.IstioVersion)
						}
					}
				}
			}
			for _, f := range after {
				f(ph.ID+": "+s.Command, held)
			}
		}
	}
	cs.dropEmpty()
}

// passthroughOverlap names two Istio Gateways of one cluster whose
// AUTO_PASSTHROUGH servers on 15443 share a host (a wildcard counts):
// Istio builds a filter chain per server and host, and Envoy rejects a
// listener with two identical matches, on every east-west gateway.
func passthroughOverlap(t *testing.T, held map[string]string) string {
	t.Helper()
	type server struct{ gateway, host string }
	var seen []server
	for key, doc := range held {
		if !strings.HasPrefix(key, "gateway.networking.istio.io ") {
			continue
		}
		var g struct {
			Spec struct {
				Servers []struct {
					Port  struct{ Number int }
					TLS   struct{ Mode string }
					Hosts []string
				}
			}
		}
		if err := yaml.Unmarshal([]byte(doc), &g); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		for _, sv := range g.Spec.Servers {
			if sv.Port.Number != 15443 || sv.TLS.Mode != "AUTO_PASSTHROUGH" {
				continue
			}
			for _, h := range sv.Hosts {
				h = h[strings.Index(h, "/")+1:]
				for _, o := range seen {
					if o.gateway != key && hostsOverlap(o.host, h) {
						return fmt.Sprintf("%s (%s) and %s (%s)", o.gateway, o.host, key, h)
					}
				}
				seen = append(seen, server{key, h})
			}
		}
	}
	return ""
}

// hostsOverlap: a host matches itself, and "*.x" matches every host ending
// in ".x" and "*.y" where one suffix ends the other.
func hostsOverlap(a, b string) bool {
	wild := func(h string) (string, bool) { return strings.CutPrefix(h, "*") }
	as, aw := wild(a)
	bs, bw := wild(b)
	switch {
	case aw && bw:
		return strings.HasSuffix(as, bs) || strings.HasSuffix(bs, as)
	case aw:
		return strings.HasSuffix(b, as)
	case bw:
		return strings.HasSuffix(a, bs)
	}
	return a == b
}

// TestChangePlansKeepPassthroughUnique runs the old mesh's plan and then
// each change plan of testdata/changes on the model, and requires that at
// no step do two Gateways of a cluster pass the same host on 15443: a
// change that moves the exports from one Gateway to another deletes the
// old one first.
func TestChangePlansKeepPassthroughUnique(t *testing.T) {
	pairs, err := cases.ReadDir("../compiler/testdata/changes")
	if err != nil {
		t.Fatal(err)
	}
	exports := 0
	for _, c := range pairs {
		old, new := mustVet(t, c.Input("old.yaml")), mustVet(t, c.Input("new.yaml"))
		p, err := BuildChangePlan(old, new, ChangeOptions{})
		var refused *RefusedChange
		if errors.As(err, &refused) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		if len(old.Spec.Peers) > 0 && len(new.Spec.Peers) > 0 {
			exports++
		}
		oldOut, _ := Render(old)
		newOut, _ := Render(new)
		state := clusters{}
		check := func(step string, held map[string]string) {
			if o := passthroughOverlap(t, held); o != "" {
				t.Errorf("%s: after step %q: Envoy would reject the east-west gateways' listener: %s overlap on 15443", c.Name(), step, o)
			}
		}
		state.run(BuildPlan(old), oldOut, check)
		state.run(p, newOut, check)
	}
	if exports == 0 {
		t.Error("no change case keeps federation peers; the check is not exercised")
	}
}

func (cs clusters) dropEmpty() {
	for c, held := range cs {
		if len(held) == 0 {
			delete(cs, c)
		}
	}
}

// TestRefusalBounded: a refused change names ten reasons and counts the
// rest, so 300 clusters rotating their contexts give one short line, not
// 200 KB (found by the adversarial review).
func TestRefusalBounded(t *testing.T) {
	mesh := func(shift int) *mesh.Mesh {
		var b strings.Builder
		b.WriteString("apiVersion: meshc.dev/v1alpha1\nkind: Mesh\nmetadata: {name: big}\nspec:\n  meshID: mesh1\n  topology: multi-primary\n  istio: {version: \"1.28.0\"}\n  networks: [{name: network1}]\n  clusters:\n")
		for i := range 300 {
			fmt.Fprintf(&b, "    - {name: c%d, network: network1, role: primary, context: ctx%d}\n", i, (i+shift)%300)
		}
		m, err := mesh.Load("big.yaml", []byte(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	err := changeAllowed(mesh(0), mesh(1))
	if err == nil {
		t.Fatal("rotating every cluster's context was not refused")
	}
	msg := err.Error()
	if got := strings.Count(msg, " takes kube context "); got != 5 || !strings.HasSuffix(msg, "; and 590 more alike [MC097]") || len(msg) > 5000 {
		t.Errorf("refusal of %d bytes names %d context takeovers and ends %q; want ten reasons (5 takeovers, 5 moves), then \"; and 590 more alike\"", len(msg), got, msg[max(0, len(msg)-40):])
	}
}

// vet is Load and Validate, as compiler.Vet is, for tests that live with the
// renderer, which compiler imports.
func vet(name string, data []byte) (*mesh.Mesh, error) {
	m, err := mesh.Load(name, data)
	if err != nil {
		return nil, err
	}
	if ps := rules.Validate(m); len(ps) > 0 {
		return nil, ps
	}
	return m, nil
}
