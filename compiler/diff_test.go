package compiler_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/output"
	"meshc.dev/meshc/render"
)

func TestDiff(t *testing.T) {
	_, out, err := compiler.Compile("mesh.yaml", mustRead(t, "../examples/primary-remote-multi-network/mesh.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")

	// Nothing rendered yet: every file is missing.
	diffs, err := output.Diff(out, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != len(out.Files)+1 {
		t.Fatalf("%d differences for a missing directory, want %d (every file and the marker missing)", len(diffs), len(out.Files)+1)
	}
	for _, d := range diffs {
		if d.Kind != output.Missing {
			t.Errorf("%s: %s, want missing", d.Path, d.Kind)
		}
	}

	if err := output.Write(out, dir); err != nil {
		t.Fatal(err)
	}
	diffs, err = output.Diff(out, dir)
	if err != nil || len(diffs) != 0 {
		t.Fatalf("freshly written output: %v, %v; want no differences", diffs, err)
	}

	plan := filepath.Join(dir, render.PlanFile)
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
	if err := os.Chmod(filepath.Join(dir, render.PlanScript), 0o644); err != nil {
		t.Fatal(err)
	}

	diffs, err = output.Diff(out, dir)
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

// TestDiffReportsEveryLeftover: whatever is on disk that Write would not
// leave there is a difference, each kind of leftover on its own: render
// --check passes only on exactly what render writes.
func TestDiffReportsEveryLeftover(t *testing.T) {
	_, out, err := compiler.Compile("mesh.yaml", mustRead(t, "../examples/primary-remote-multi-network/mesh.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name   string
		change func(dir string)
		want   []string
	}{
		{"an extra file at the top", func(d string) { write(t, filepath.Join(d, "notes.txt"), "x") },
			[]string{"notes.txt: extra: meshc does not render it"}},
		{"an extra hidden file deep down", func(d string) { write(t, filepath.Join(d, "cluster1/manifests/.keep"), "") },
			[]string{"cluster1/manifests/.keep: extra: meshc does not render it"}},
		{"an empty directory", func(d string) { must(os.Mkdir(filepath.Join(d, "cluster1/old"), 0o755)) },
			[]string{"cluster1/old/: extra: meshc does not render it"}},
		{"a directory of files, once", func(d string) {
			must(os.MkdirAll(filepath.Join(d, "old/a/b"), 0o755))
			write(t, filepath.Join(d, "old/a/b/x.yaml"), "x")
			write(t, filepath.Join(d, "old/y.yaml"), "y")
		}, []string{"old/: extra: meshc does not render it"}},
		{"a symlink where nothing is rendered", func(d string) { must(os.Symlink("PLAN.md", filepath.Join(d, "README.md"))) },
			[]string{"README.md: extra: meshc does not render it"}},
		{"a symlink to the rendered file", func(d string) {
			must(os.Rename(filepath.Join(d, "PLAN.md"), filepath.Join(d, "cluster1/PLAN.md")))
			must(os.Symlink("cluster1/PLAN.md", filepath.Join(d, "PLAN.md")))
		}, []string{"PLAN.md: stale: not a regular file", "cluster1/PLAN.md: extra: meshc does not render it"}},
		{"a symlinked directory", func(d string) {
			must(os.Rename(filepath.Join(d, "cluster2"), filepath.Join(d, "..", "elsewhere")))
			must(os.Symlink(filepath.Join(d, "..", "elsewhere"), filepath.Join(d, "cluster2")))
		}, nil}, // filled in below: cluster2 extra, its files missing
		{"a directory where a file is rendered", func(d string) {
			must(os.Remove(filepath.Join(d, "PLAN.md")))
			must(os.Mkdir(filepath.Join(d, "PLAN.md"), 0o755))
		}, []string{"PLAN.md/: extra: meshc does not render it", "PLAN.md: missing"}},
		{"a stale file in a nested directory", func(d string) { write(t, filepath.Join(d, "cluster2/install/istio.yaml"), "x\n") },
			[]string{"cluster2/install/istio.yaml: stale: differs from the rendered file at line 1"}},
		{"the executable bit", func(d string) { must(os.Chmod(filepath.Join(d, render.PlanScript), 0o644)) },
			[]string{"plan.sh: stale: mode differs from the rendered 0755"}},
		{"a file others may write", func(d string) { must(os.Chmod(filepath.Join(d, render.PlanFile), 0o666)) },
			[]string{"PLAN.md: stale: mode differs from the rendered 0644"}},
		{"a directory others may write", func(d string) { must(os.Chmod(filepath.Join(d, "cluster1"), 0o777)) },
			[]string{"cluster1/: stale: mode differs from the rendered 0755"}},
		{"the marker missing", func(d string) { must(os.Remove(filepath.Join(d, output.MarkerFile))) },
			[]string{".meshc: missing"}},
		{"the marker of another mesh", func(d string) { write(t, filepath.Join(d, output.MarkerFile), "kind: render\nmesh: other\n") },
			[]string{".meshc: stale: differs from the rendered file at line 1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			if err := output.Write(out, dir); err != nil {
				t.Fatal(err)
			}
			c.change(dir)
			want := c.want
			if want == nil {
				want = []string{"cluster2: extra: meshc does not render it"}
				for _, f := range out.Files {
					if strings.HasPrefix(f.Path, "cluster2/") {
						want = append(want, f.Path+": missing")
					}
				}
			}
			diffs, err := output.Diff(out, dir)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range diffs {
				got = append(got, d.String())
			}
			slices.Sort(got)
			slices.Sort(want)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("differences (-want +got):\n%s", d)
			}
		})
	}
}

func TestDiffNotADirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "out")
	write(t, file, "x")
	_, err := output.Diff(&output.Output{}, file)
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
