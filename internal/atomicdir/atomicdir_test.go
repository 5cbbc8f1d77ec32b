package atomicdir

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReplace(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	if err := os.MkdirAll(filepath.Join(dir, "stale"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := Replace(dir, 0o700, []File{
		{Path: "a/key.pem", Data: []byte("k"), Mode: 0o600},
		{Path: "b.txt", Data: []byte("b"), Mode: 0o644},
	})
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{"": 0o700, "a": 0o700, "a/key.pem": 0o600, "b.txt": 0o644} {
		fi, err := os.Stat(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%q: mode %#o, want %#o", p, got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "stale")); !os.IsNotExist(err) {
		t.Errorf("previous contents survived: %v", err)
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 {
		t.Errorf("temporary directories left behind: %v", entries)
	}
}

// TestReplaceFailureKeepsPrevious: a file that cannot be written leaves the
// previous directory as it was and no temporary directory behind.
func TestReplaceFailureKeepsPrevious(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "keep"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Replace(dir, 0o755, []File{{Path: "f", Data: []byte("1"), Mode: 0o644}, {Path: "f/g", Data: []byte("2"), Mode: 0o644}})
	if err == nil {
		t.Fatal("writing a file under a file succeeded")
	}
	if b, err := os.ReadFile(filepath.Join(dir, "keep")); err != nil || string(b) != "x" {
		t.Errorf("previous contents lost: %q %v", b, err)
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 {
		t.Errorf("temporary directories left behind: %v", entries)
	}
}
