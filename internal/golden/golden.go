package golden

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"meshc.dev/meshc/internal/filetree"
)

// Update is the switch: MESHC_UPDATE=1 go test ./... rewrites every golden
// file instead of comparing with it.
var Update = os.Getenv("MESHC_UPDATE") != ""

const hint = "if the change is intended, run MESHC_UPDATE=1 go test ./... and review the diff"

// File compares got with the file at path, or writes it there when Update.
func File(t testing.TB, path string, got []byte) {
	t.Helper()
	if Update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (%s)", err, hint)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s is stale (-committed +got); %s:\n%s", path, hint, diff)
	}
}

// Tree compares got, file contents by slash path, with every file under
// dir, or replaces dir with exactly got when Update. Paths in executable
// are written, and must be committed, with mode 0755.
func Tree(t testing.TB, dir string, got map[string]string, executable map[string]bool) {
	t.Helper()
	if Update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		for p, data := range got {
			f := filepath.Join(dir, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
				t.Fatal(err)
			}
			mode := os.FileMode(0o644)
			if executable[p] {
				mode = 0o755
			}
			if err := os.WriteFile(f, []byte(data), mode); err != nil {
				t.Fatal(err)
			}
		}
	}
	want, err := filetree.Read(dir)
	if err != nil {
		t.Fatalf("%v (%s)", err, hint)
	}
	for p := range got {
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p)))
		if err == nil && (fi.Mode()&0o100 != 0) != executable[p] {
			t.Errorf("%s/%s: mode %v, want executable=%v", dir, p, fi.Mode(), executable[p])
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("output differs from %s (-golden +got); %s:\n%s", dir, hint, diff)
	}
}

// ReadTree reads every file under dir, keyed by slash path, or fails t.
func ReadTree(t testing.TB, dir string) map[string]string {
	t.Helper()
	tree, err := filetree.Read(dir)
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	return tree
}
