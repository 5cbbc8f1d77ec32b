package compiler_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/internal/golden"
	"meshc.dev/meshc/render"
)

func examples(t testing.TB) []string {
	t.Helper()
	dirs, err := filepath.Glob("../examples/*/mesh.yaml")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for i, d := range dirs {
		dirs[i] = filepath.Base(filepath.Dir(d))
	}
	return dirs
}

func TestGolden(t *testing.T) {
	for _, ex := range examples(t) {
		t.Run(ex, func(t *testing.T) {
			_, out, err := compiler.Compile(ex+"/mesh.yaml", mustRead(t, filepath.Join("../examples", ex, "mesh.yaml")))
			if err != nil {
				t.Fatal(err)
			}
			got, exec := map[string]string{}, map[string]bool{}
			for _, f := range out.Owned().Files {
				got[f.Path] = string(f.Data)
				exec[f.Path] = f.Mode&0o100 != 0
			}
			golden.Tree(t, filepath.Join("../golden", ex), got, exec)
		})
	}
}

// TestDeterministic renders each example twice and demands identical bytes:
// map iteration or parallel rendering must never leak into the output.
func TestDeterministic(t *testing.T) {
	for _, ex := range examples(t) {
		data := mustRead(t, filepath.Join("../examples", ex, "mesh.yaml"))
		_, a, err := compiler.Compile("mesh.yaml", data)
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			_, b, err := compiler.Compile("mesh.yaml", data)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(a, b); diff != "" {
				t.Fatalf("%s: second render differs:\n%s", ex, diff)
			}
		}
	}
}

func mustRead(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRenderCluster: rendering one cluster gives exactly that cluster's
// install/ or helm/, and manifests/ files from the whole render, and nothing else.
func TestRenderCluster(t *testing.T) {
	for _, ex := range examples(t) {
		m, out, err := compiler.Compile("mesh.yaml", mustRead(t, filepath.Join("../examples", ex, "mesh.yaml")))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range m.Spec.Clusters {
			want := map[string]string{}
			for _, f := range out.Files {
				if inClusterDirs(f.Path, c.Name) {
					want[f.Path] = string(f.Data)
				}
			}
			one, err := render.RenderCluster(m, c.Name)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, f := range one.Files {
				got[f.Path] = string(f.Data)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s/%s: RenderCluster differs from Render (-Render +RenderCluster):\n%s", ex, c.Name, diff)
			}
		}
		if _, err := render.RenderCluster(m, "nope"); err == nil || !strings.Contains(err.Error(), `cluster "nope" is not in mesh`) {
			t.Errorf("%s: RenderCluster of an unknown cluster: %v", ex, err)
		}
	}
}
