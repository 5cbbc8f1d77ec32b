package cuebaseline_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/internal/cuebaseline"
	"meshc.dev/meshc/internal/meshgen"
	"meshc.dev/meshc/render"
)

// TestSameOutputAsMeshc proves the benchmark compares like with like: every
// file the CUE baseline exports is the file meshc renders at the same path (as
// YAML data; meshc's comments aside), meshc renders no such file the CUE
// route lacks, and the remote-secret lines are exactly meshc's plan steps.
func TestSameOutputAsMeshc(t *testing.T) {
	inputs := map[string][]byte{}
	for _, topo := range meshgen.Topologies {
		s := meshgen.Shape{Topology: topo, Clusters: 30}
		inputs[s.String()] = meshgen.Generate(s)
	}
	examples, _ := filepath.Glob("../../examples/*/mesh.yaml")
	if len(examples) == 0 {
		t.Fatal("no examples found")
	}
	for _, ex := range examples {
		data, err := os.ReadFile(ex)
		if err != nil {
			t.Fatal(err)
		}
		inputs[filepath.Base(filepath.Dir(ex))] = data
	}
	for name, data := range inputs {
		t.Run(name, func(t *testing.T) {
			m, out, err := compiler.Compile("mesh.yaml", data)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Spec.Namespaces)+len(m.Spec.Services) > 0 {
				t.Skip("the baseline models the control plane only, not shared namespaces and services")
			}
			if m.UsesHelm() {
				t.Skip("the CUE baseline is the benchmark's yardstick, written for the istioctl path the benchmark meshes use")
			}
			got, err := cuebaseline.Export("mesh.yaml", data)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range out.Files {
				base := f.Path[strings.LastIndex(f.Path, "/")+1:]
				switch base {
				case "namespace.yaml", "istio.yaml", "eastwest-gateway.yaml", "cross-network-gateway.yaml":
				default:
					continue
				}
				cue, ok := got.Files[f.Path]
				if !ok {
					t.Errorf("%s: rendered by meshc, missing from the CUE baseline", f.Path)
					continue
				}
				delete(got.Files, f.Path)
				if d := cmp.Diff(decode(t, f.Data), decode(t, cue)); d != "" {
					t.Errorf("%s: differs (-meshc +cue):\n%s", f.Path, d)
				}
			}
			for p := range got.Files {
				t.Errorf("%s: exported by the CUE baseline, not rendered by meshc", p)
			}
			var want []string
			for _, ph := range render.BuildPlan(m).Phases {
				if ph.ID == "remote-secrets" {
					for _, s := range ph.Steps {
						want = append(want, s.Command)
					}
				}
			}
			if len(want) == 0 {
				t.Fatal("meshc's plan has no remote secrets")
			}
			if d := cmp.Diff(want, got.RemoteSecrets); d != "" {
				t.Errorf("remote secrets differ (-meshc +cue):\n%s", d)
			}
		})
	}
}

func decode(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	return v
}
