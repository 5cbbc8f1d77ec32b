package compiler_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/internal/golden"
)

// peersDir holds the cases of VetPeers: txtar archives of several Mesh
// files, each valid alone, and a want section with the problems meshc vet
// reports when given them together. MESHC_UPDATE=1 rewrites want.
const peersDir = "testdata/peers"

// peerCases returns every case's archive by path.
func peerCases(t testing.TB) map[string]*txtar.Archive {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(peersDir, "*.txtar"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("reading %s: %v", peersDir, err)
	}
	cases := map[string]*txtar.Archive{}
	for _, p := range paths {
		a, err := txtar.ParseFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(a.Files); n < 3 || a.Files[n-1].Name != golden.WantSection {
			t.Fatalf("%s: want two or more Mesh files and a %q section", p, golden.WantSection)
		}
		cases[p] = a
	}
	return cases
}

func TestVetPeers(t *testing.T) {
	for path, a := range peerCases(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			var meshes []*compiler.Mesh
			for _, f := range a.Files[:len(a.Files)-1] {
				m, err := compiler.Vet(f.Name, f.Data)
				if err != nil {
					t.Fatalf("%s must be valid alone: %v", f.Name, err)
				}
				meshes = append(meshes, m)
			}
			got := compiler.VetPeers(meshes).Error()
			if got != "" {
				got += "\n"
			}
			want := &a.Files[len(a.Files)-1]
			if golden.Update {
				want.Data = []byte(got)
				if err := os.WriteFile(path, txtar.Format(a), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got == "" {
				t.Errorf("%s: the meshes agree; a case must fail", path)
			}
			if diff := cmp.Diff(string(want.Data), got); diff != "" {
				t.Errorf("%s: problems differ (-want +got):\n%s", path, diff)
			}
		})
	}
}

// TestFederationExamplesAgree: the two federation examples, vetted
// together, have nothing to report.
func TestFederationExamplesAgree(t *testing.T) {
	var meshes []*compiler.Mesh
	for _, ex := range []string{"federation-east", "federation-west"} {
		p := filepath.Join("../examples", ex, "mesh.yaml")
		m, err := compiler.Vet(p, mustRead(t, p))
		if err != nil {
			t.Fatal(err)
		}
		meshes = append(meshes, m)
	}
	if ps := compiler.VetPeers(meshes); len(ps) > 0 {
		t.Errorf("the federation examples disagree:\n%v", ps)
	}
}

// peerCaseRules lists the rule IDs the peer cases' want sections name.
func peerCaseRules(t testing.TB) string {
	var b strings.Builder
	for _, a := range peerCases(t) {
		b.Write(a.Files[len(a.Files)-1].Data)
	}
	return b.String()
}
