package compiler_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"meshc.dev/meshc/compiler"
)

func TestDiff(t *testing.T) {
	_, out, err := compiler.Compile("mesh.yaml", mustRead(t, "../examples/primary-remote-multi-network/mesh.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")

	// Nothing rendered yet: every file is missing.
	diffs, err := compiler.Diff(out, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != len(out.Files)+1 {
		t.Fatalf("%d differences for a missing directory, want %d (every file and the marker missing)", len(diffs), len(out.Files)+1)
	}
	for _, d := range diffs {
		if d.Kind != compiler.Missing {
			t.Errorf("%s: %s, want missing", d.Path, d.Kind)
		}
	}

	if err := compiler.Write(out, dir); err != nil {
		t.Fatal(err)
	}
	diffs, err = compiler.Diff(out, dir)
	if err != nil || len(diffs) != 0 {
		t.Fatalf("freshly written output: %v, %v; want no differences", diffs, err)
	}

	plan := filepath.Join(dir, compiler.PlanFile)
	data := mustRead(t, plan)
	lines := strings.SplitAfter(string(data), "\n")
	lines[2] = "edited by hand\n"
	write(t, plan, strings.Join(lines, ""))
	if err := os.Remove(filepath.Join(dir, "cluster2/install/istio.yaml")); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "cluster2/notes.txt"), "mine\n")
	link := filepath.Join(dir, "cluster1/manifests/namespace.yaml")
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("kustomization.yaml", link); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, compiler.PlanScript), 0o644); err != nil {
		t.Fatal(err)
	}

	diffs, err = compiler.Diff(out, dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range diffs {
		got = append(got, d.String())
	}
	want := []string{
		"PLAN.md: stale: differs from the rendered file at line 3",
		"cluster1/manifests/namespace.yaml: stale: not a regular file",
		"cluster2/install/istio.yaml: missing",
		"cluster2/notes.txt: extra: meshc does not render it",
		"plan.sh: stale: mode differs from the rendered 0755",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("differences (-want +got):\n%s", diff)
	}
}

func TestDiffNotADirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "out")
	write(t, file, "x")
	_, err := compiler.Diff(&compiler.Output{}, file)
	if err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Fatalf("got %v, want an error saying out is not a directory", err)
	}
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
