package golden

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestCaseRoundTrip reads a case, rewrites its want section as Update does,
// and reads it back with the input byte for byte unchanged.
func TestCaseRoundTrip(t *testing.T) {
	dir := t.TempDir()
	const arch = "What it checks.\n-- bad.yaml --\nkind: Mash\n-- want --\nbad.yaml:1:7: kind: wrong\n"
	if err := os.WriteFile(filepath.Join(dir, "bad.txtar"), []byte(arch), 0o644); err != nil {
		t.Fatal(err)
	}
	cases, err := ReadCases(dir)
	if err != nil || len(cases) != 1 {
		t.Fatalf("ReadCases: %v, %d cases", err, len(cases))
	}
	c := cases[0]
	if c.Name != "bad.yaml" || string(c.Input) != "kind: Mash\n" || !slices.Equal(c.Want, []string{"bad.yaml:1:7: kind: wrong"}) {
		t.Fatalf("read %+v", c)
	}
	Update = true
	defer func() { Update = false }()
	c.Check(t, []string{"one", "two"})
	again, err := ReadCases(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := again[0]; string(got.Input) != "kind: Mash\n" || !slices.Equal(got.Want, []string{"one", "two"}) {
		t.Errorf("after update: input %q, want %q", got.Input, got.Want)
	}
	out := t.TempDir()
	if err := ExtractInputs(dir, out); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(out, "bad.yaml")); err != nil || string(b) != "kind: Mash\n" {
		t.Errorf("extracted: %q, %v", b, err)
	}
}

// TestReadCasesRejectsMalformed: a case without its want section is an
// error, not a case that checks nothing.
func TestReadCasesRejectsMalformed(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.txtar"), []byte("-- x.yaml --\na: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadCases(dir); err == nil {
		t.Error("ReadCases accepted a case with no want section")
	}
}
