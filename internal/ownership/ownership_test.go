package ownership

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, p, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCheck: only an absent or empty directory, or one whose marker names
// the kind and the mesh, may be written; a checkout or a directory holding
// an input never, marker or not.
func TestCheck(t *testing.T) {
	root := t.TempDir()
	dir := func(name string) string { return filepath.Join(root, name) }
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Mkdir(dir("empty"), 0o755))
	write(t, filepath.Join(dir("owned"), MarkerFile), string(Marker(Render, "demo")))
	write(t, filepath.Join(dir("owned"), "PLAN.md"), "x")
	write(t, filepath.Join(dir("notes"), "PLAN.md"), "mine")
	write(t, filepath.Join(dir("certs"), MarkerFile), string(Marker(Certs, "demo")))
	write(t, filepath.Join(dir("repo"), MarkerFile), string(Marker(Render, "demo")))
	must(os.Mkdir(filepath.Join(dir("repo"), ".git"), 0o755))
	write(t, filepath.Join(dir("withinput"), MarkerFile), string(Marker(Render, "demo")))
	write(t, filepath.Join(dir("withinput"), "sub", "mesh.yaml"), "x")
	must(os.Mkdir(dir("linked"), 0o755))
	must(os.Symlink(filepath.Join(dir("owned"), MarkerFile), filepath.Join(dir("linked"), MarkerFile)))
	write(t, dir("file"), "x")
	write(t, filepath.Join(dir("garbled"), MarkerFile), "hello\n")
	// Below the top: a checkout deep inside, a worktree's .git file, a
	// certificates directory in an output, an output in a certificates
	// directory, and outputs inside certificates directories.
	write(t, filepath.Join(dir("deepgit"), MarkerFile), string(Marker(Render, "demo")))
	must(os.MkdirAll(filepath.Join(dir("deepgit"), "cluster1", "app", ".hg"), 0o755))
	write(t, filepath.Join(dir("worktree"), MarkerFile), string(Marker(Render, "demo")))
	write(t, filepath.Join(dir("worktree"), "sub", ".git"), "gitdir: /elsewhere\n")
	write(t, filepath.Join(dir("keysin"), MarkerFile), string(Marker(Render, "demo")))
	write(t, filepath.Join(dir("keysin"), "cluster1", "certs", MarkerFile), string(Marker(Certs, "demo")))
	write(t, filepath.Join(dir("outin"), "out", MarkerFile), string(Marker(Render, "demo")))
	must(os.Symlink(dir("certs"), dir("certlink")))

	for _, c := range []struct {
		dir, mesh, input string
		kind             Kind
		want             State
		refusal          string
	}{
		{dir: "absent", want: Absent},
		{dir: "empty", want: Empty},
		{dir: "owned", want: Owned},
		{dir: "notes", refusal: "holds no .meshc marker"},
		{dir: "owned", mesh: "other", refusal: `says meshc wrote it for mesh "demo", not "other"`},
		{dir: "certs", refusal: "says it is a meshc certificates directory, not a meshc render output"},
		{dir: "certs", kind: Certs, want: Owned},
		{dir: "repo", refusal: "holds .git, a version-control directory"},
		{dir: "withinput", input: "withinput/sub/mesh.yaml", refusal: "which meshc reads"},
		{dir: "linked", refusal: "cannot be read (not a marker meshc wrote)"},
		{dir: "garbled", refusal: "cannot be read (not a marker meshc wrote)"},
		{dir: "file", refusal: "it is not a directory"},
		{dir: "deepgit", refusal: "holds cluster1/app/.hg, a version-control directory"},
		{dir: "worktree", refusal: "holds sub/.git, a version-control directory"},
		{dir: "keysin", refusal: "holds cluster1/certs, a meshc certificates directory, which holds private keys meshc never replaces"},
		{dir: "outin", kind: Certs, refusal: "holds out, a meshc render output, which the next render replaces as a whole"},
		{dir: "certs/out", refusal: "certs, a meshc certificates directory, which holds private keys"},
		{dir: "certlink/a/b", refusal: "certs, a meshc certificates directory, which holds private keys"},
		{dir: "owned/certs", kind: Certs, refusal: "owned, a meshc render output, which the next render"},
		{dir: "certlink", kind: Certs, want: Owned},
	} {
		kind, mesh := c.kind, c.mesh
		if kind == "" {
			kind = Render
		}
		if mesh == "" {
			mesh = "demo"
		}
		var inputs []string
		if c.input != "" {
			inputs = append(inputs, filepath.Join(root, c.input))
		}
		got, err := Check(dir(c.dir), kind, mesh, inputs...)
		var r *Refusal
		switch {
		case c.refusal == "" && (err != nil || got != c.want):
			t.Errorf("%s: Check = %v, %v; want %v", c.dir, got, err, c.want)
		case c.refusal != "" && (!errors.As(err, &r) || !strings.Contains(err.Error(), c.refusal)):
			t.Errorf("%s: Check error %v, want a refusal containing %q", c.dir, err, c.refusal)
		}
	}
	if _, err := Check(dir("notes"), Render, "demo"); err == nil || !err.(*Refusal).Unmarked {
		t.Errorf("a directory without a marker is not marked Unmarked: %v", err)
	}
}

// TestResolve: symlinks are resolved in the part of the path that exists
// and the rest is appended; a ".." that climbs out of a symlink is an error
// rather than two answers, and so is a symlink to nothing.
func TestResolve(t *testing.T) {
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "a", "b"), filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "gone"), filepath.Join(root, "dangling")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ in, want, err string }{
		{in: "dangling", err: "dangling is a symlink to " + filepath.Join(root, "gone") + ", which does not exist"},
		{in: "dangling/new", err: "which does not exist"},
		{in: "dangling/../a", err: "which does not exist"},
		{in: "a/b", want: "a/b"},
		{in: "link", want: "a/b"},
		{in: "link/new/deeper", want: "a/b/new/deeper"},
		{in: "a/b/../b/new", want: "a/b/new"},
		{in: "new/../a", want: "a"},
		{in: "link/../x", err: `its ".." climbs out of a symlinked directory`},
	} {
		got, err := Resolve(root + "/" + c.in) // not Join, which cleans ".." away
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("Resolve(%s) = %q, %v; want an error containing %q", c.in, got, err, c.err)
		case c.err == "" && (err != nil || got != filepath.Join(root, c.want)):
			t.Errorf("Resolve(%s) = %q, %v; want %s", c.in, got, err, filepath.Join(root, c.want))
		}
	}
}

// TestLockSerialises: a second Lock of the same directory waits for the
// first to be released.
func TestLockSerialises(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no flock")
	}
	dir := filepath.Join(t.TempDir(), "out")
	unlock, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{})
	go func() {
		u, err := Lock(dir)
		if err != nil {
			t.Error(err)
		} else {
			u()
		}
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("a second Lock went through while the first was held")
	case <-time.After(200 * time.Millisecond):
	}
	unlock()
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("the second Lock never went through")
	}
}
