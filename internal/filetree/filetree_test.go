package filetree

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	for p, s := range map[string]string{"a.yaml": "a", "x/y/b.yaml": "b"} {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"a.yaml": "a", "x/y/b.yaml": "b"}, got); diff != "" {
		t.Error(diff)
	}
	if _, err := Read(filepath.Join(dir, "missing")); err == nil {
		t.Error("reading a missing directory succeeded")
	}
}
