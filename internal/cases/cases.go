package cases

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rogpeppe/go-internal/txtar"
)

// Want names the last section of every case: what meshc must produce.
const Want = "want"

// Section is one named file of a case.
type Section struct {
	Name string
	Data []byte
}

// Case is one txtar archive:
//
//	What the case checks, in a sentence or two.
//	-- old.yaml --
//	(an input)
//	-- new.yaml --
//	(another)
//	-- want --
//	(what meshc produces for them)
type Case struct {
	// Path is the archive's path.
	Path string
	// Comment is the text before the first section: what the case checks.
	Comment string
	// Inputs are the sections before want, in order.
	Inputs []Section
	// Want is the last section's content.
	Want []byte

	arch *txtar.Archive
}

// Read reads the case at path. An archive whose last section is not want is
// an error: a case that expects nothing checks nothing.
func Read(path string) (*Case, error) {
	a, err := txtar.ParseFile(path)
	if err != nil {
		return nil, err
	}
	n := len(a.Files)
	if n < 2 || a.Files[n-1].Name != Want {
		return nil, fmt.Errorf("%s: want one or more input sections and a last section %q", path, Want)
	}
	c := &Case{Path: path, Comment: string(a.Comment), Want: a.Files[n-1].Data, arch: a}
	for _, f := range a.Files[:n-1] {
		c.Inputs = append(c.Inputs, Section{Name: f.Name, Data: f.Data})
	}
	return c, nil
}

// ReadDir reads every *.txtar case in dir, sorted by file name.
func ReadDir(dir string) ([]*Case, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil {
		return nil, err
	}
	var out []*Case
	for _, p := range paths {
		c, err := Read(p)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Name is the case's file name without .txtar, for subtest names.
func (c *Case) Name() string { return strings.TrimSuffix(filepath.Base(c.Path), ".txtar") }

// Input returns the input section called name, or nil.
func (c *Case) Input(name string) []byte {
	for _, s := range c.Inputs {
		if s.Name == name {
			return s.Data
		}
	}
	return nil
}

// WantLines is want as lines, without the last newline: one problem or
// finding each. An empty want is no lines.
func (c *Case) WantLines() []string {
	w := strings.TrimSuffix(string(c.Want), "\n")
	if w == "" {
		return nil
	}
	return strings.Split(w, "\n")
}

// Rewrite replaces the want section with want, in memory and on disk; the
// comment and the inputs keep their bytes.
func (c *Case) Rewrite(want []byte) error {
	c.arch.Files[len(c.arch.Files)-1].Data = want
	if err := os.WriteFile(c.Path, txtar.Format(c.arch), 0o644); err != nil {
		return err
	}
	c.Want = want
	return nil
}

// Lines joins lines as a want section holds them: one per line, each ended
// by a newline; none is empty.
func Lines(lines []string) []byte {
	if len(lines) == 0 {
		return nil
	}
	return []byte(strings.Join(lines, "\n") + "\n")
}
