package output

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"cuelang.org/go/cue/token"

	"meshc.dev/meshc/diag"
)

// DiffKind says how a file on disk differs from the rendered output.
type DiffKind string

// The ways a directory can differ from what Render produces.
const (
	// Stale files exist in both but their bytes differ.
	Stale DiffKind = "stale"
	// Missing files are rendered but absent from the directory.
	Missing DiffKind = "missing"
	// Extra files are in the directory but not rendered; Write would
	// delete them.
	Extra DiffKind = "extra"
)

// Difference is one file or directory whose committed copy does not match
// the render.
type Difference struct {
	// Path is relative to the compared directory, with forward slashes; a
	// directory's ends in "/".
	Path string
	Kind DiffKind
	// Line is the first line that differs, for stale regular files; 0
	// otherwise.
	Line int
	// Mode is the rendered permission bits when the contents match but the
	// mode does not: the executable bit (git records it) differs, or
	// others may write the file or directory, which meshc never lets them;
	// 0 otherwise.
	Mode fs.FileMode
}

// String says what is wrong with the file and how far the copies agree.
func (d Difference) String() string { return d.Problem().String() }

// Problem is the difference as the one diagnostic every check reports:
// the file, and its kind and how far the copies agree as the message.
func (d Difference) Problem() diag.Problem {
	p := diag.Problem{Pos: token.Position{Filename: d.Path}, Message: string(d.Kind)}
	switch {
	case d.Kind == Stale && d.Mode != 0:
		p.Message += fmt.Sprintf(": mode differs from the rendered %#o", d.Mode)
	case d.Kind == Stale && d.Line > 0:
		p.Message += fmt.Sprintf(": differs from the rendered file at line %d", d.Line)
	case d.Kind == Stale:
		p.Message += ": not a regular file"
	case d.Kind == Extra:
		p.Message += ": meshc does not render it"
	}
	return p
}

// Diff compares a rendered Output with the files under dir and returns every
// difference, sorted by path; none means dir is exactly what Write would
// produce: every file rendered, with the rendered bytes and executable bit,
// none writable by others, and nothing else, not even an empty directory
// or a symlink. It only reads: this is the "forgot to re-render" check of
// `meshc render --check`, usable by any front end. A dir that does not exist
// is an empty directory (every file missing).
func Diff(out *Output, dir string) ([]Difference, error) {
	out = out.Owned()
	dirs := map[string]bool{} // the directories Write creates
	for _, f := range out.Files {
		for d := path.Dir(f.Path); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		// WalkDir does not follow a symlinked root; out/ may be one.
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			dir = real
		}
	}
	var diffs []Difference
	seen := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if p == dir {
			if !d.IsDir() {
				return fmt.Errorf("%s is not a directory", dir)
			}
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if !dirs[rel] {
				// Write would delete it with all it holds: one line says so.
				diffs = append(diffs, Difference{Path: rel + "/", Kind: Extra})
				return filepath.SkipDir
			}
			if info, err := d.Info(); err == nil && info.Mode().Perm()&0o002 != 0 {
				diffs = append(diffs, Difference{Path: rel + "/", Kind: Stale, Mode: 0o755})
			}
			return nil
		}
		f := out.Lookup(rel)
		if f == nil {
			diffs = append(diffs, Difference{Path: rel, Kind: Extra})
			return nil
		}
		seen[rel] = true
		diff, err := compareFile(p, rel, d, f)
		if diff != nil {
			diffs = append(diffs, *diff)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("comparing with %s: %w", dir, err)
	}
	for _, f := range out.Files {
		if !seen[f.Path] {
			diffs = append(diffs, Difference{Path: f.Path, Kind: Missing})
		}
	}
	slices.SortFunc(diffs, func(a, b Difference) int { return strings.Compare(a.Path, b.Path) })
	return diffs, nil
}

// compareFile compares the file at p (rel in the output) with f, the
// rendered one: its type, bytes and executable bit, and that others cannot
// write it. It returns the difference, or nil.
func compareFile(p, rel string, d fs.DirEntry, f *File) (*Difference, error) {
	if !d.Type().IsRegular() {
		return &Difference{Path: rel, Kind: Stale}, nil
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	if line := firstDifference(data, f.Data); line > 0 {
		return &Difference{Path: rel, Kind: Stale, Line: line}, nil
	}
	info, err := d.Info()
	if err != nil {
		return nil, err
	}
	want := cmp.Or(f.Mode, 0o644)
	if got := info.Mode().Perm(); got&0o111 != want&0o111 || got&0o002 != 0 {
		return &Difference{Path: rel, Kind: Stale, Mode: want}, nil
	}
	return nil, nil
}

// firstDifference is the 1-based line at which a and b first differ, or 0
// when they are equal.
func firstDifference(a, b []byte) int {
	if bytes.Equal(a, b) {
		return 0
	}
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	return bytes.Count(a[:i], []byte("\n")) + 1
}
