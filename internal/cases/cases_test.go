package cases

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestRewriteKeepsTheRest reads a case, rewrites want, and reads it back
// with the comment and every input byte for byte unchanged.
func TestRewriteKeepsTheRest(t *testing.T) {
	dir := t.TempDir()
	const arch = "What it checks.\n-- old.yaml --\nkind: Mesh\n-- new.yaml --\nkind: Mash\n-- want --\nbefore\n"
	path := filepath.Join(dir, "pair.txtar")
	if err := os.WriteFile(path, []byte(arch), 0o644); err != nil {
		t.Fatal(err)
	}
	cs, err := ReadDir(dir)
	if err != nil || len(cs) != 1 {
		t.Fatalf("ReadDir: %v, %d cases", err, len(cs))
	}
	c := cs[0]
	if c.Name() != "pair" || c.Comment != "What it checks.\n" || string(c.Input("new.yaml")) != "kind: Mash\n" ||
		c.Input("absent") != nil || !slices.Equal(c.WantLines(), []string{"before"}) {
		t.Fatalf("read %+v", c)
	}
	if err := c.Rewrite(Lines([]string{"one", "two"})); err != nil {
		t.Fatal(err)
	}
	again, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if want := "What it checks.\n-- old.yaml --\nkind: Mesh\n-- new.yaml --\nkind: Mash\n-- want --\none\ntwo\n"; string(got) != want {
		t.Errorf("rewritten archive:\n%s\nwant:\n%s", got, want)
	}
	if !slices.Equal(again.WantLines(), []string{"one", "two"}) || len(again.Inputs) != 2 {
		t.Errorf("after rewrite: %+v", again)
	}
	if err := again.Rewrite(nil); err != nil {
		t.Fatal(err)
	}
	if again.WantLines() != nil {
		t.Errorf("empty want reads as %q", again.WantLines())
	}
}

// TestReadRejectsCasesWithoutWant: an archive without a last want section
// is an error, not a case that checks nothing.
func TestReadRejectsCasesWithoutWant(t *testing.T) {
	dir := t.TempDir()
	for name, arch := range map[string]string{
		"none.txtar":  "-- x.yaml --\na: 1\n",
		"first.txtar": "-- want --\n-- x.yaml --\na: 1\n",
		"only.txtar":  "-- want --\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(arch), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Read(p); err == nil {
			t.Errorf("%s: Read accepted a case with no input or no last want section", name)
		}
	}
}
