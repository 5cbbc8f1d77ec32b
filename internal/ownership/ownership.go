// Package ownership decides whether meshc may write a directory, and serialises
// meshc processes that write the same one.
//
// In: a directory, what meshc would keep there (a render output or a
// certificates directory), the mesh's name and the input files. Out: nil
// when the directory is provably meshc's for that mesh (or empty or absent),
// else a *Refusal saying why; and a lock held until released.
//
// Proof is a marker file meshc writes at the top of every directory it
// owns, naming what the directory holds and the mesh. A file called PLAN.md
// proves nothing: users write those too. A directory that holds, anywhere
// below its top, a version-control checkout, one of the input files or a
// meshc directory of the other kind is never meshc's, whatever marker it
// holds; nor is one inside a directory of the other kind. Every check is
// made on the directory as the file system resolves it (Resolve): a
// symlink or ".." cannot make one directory pass for another.
package ownership

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// MarkerFile is the ownership marker, at the top of every directory meshc
// owns.
const MarkerFile = ".meshc"

// Kind is what an owned directory holds.
type Kind string

// Kinds of owned directories.
const (
	// Render is a `meshc render` output, replaced as a whole by each render.
	Render Kind = "render"
	// Certs is a `meshc certs` directory: the root CA and one subdirectory
	// per cluster.
	Certs Kind = "certs"
)

// RenderPlanFile is render.PlanFile, the plan at the top of every render
// output: an output written before markers existed is known by it.
// (render's test TestPlanFileIsOwnershipsRenderPlan keeps the two equal.)
const RenderPlanFile = "PLAN.md"

// hint is a directory name to suggest for kind.
func (k Kind) hint() string {
	if k == Certs {
		return "certs/"
	}
	return "out/"
}

func (k Kind) String() string {
	if k == Certs {
		return "a meshc certificates directory"
	}
	return "a meshc render output"
}

// Marker is the marker's content for a directory of kind for mesh.
func Marker(kind Kind, mesh string) []byte {
	var what string
	switch kind {
	case Render:
		what = "meshc render replaces this directory as a whole: files you add here are deleted."
	case Certs:
		what = "meshc certs keeps the root CA here and one intermediate CA per cluster; keep it out of version control."
	}
	return fmt.Appendf(nil, "# Written by meshc. %s\n# meshc writes only into directories that hold this file, naming their mesh.\nkind: %s\nmesh: %s\n", what, string(kind), mesh)
}

// vcsDirs are the metadata directories of version-control systems: a
// directory holding one is a checkout, never meshc's to replace.
var vcsDirs = []string{".git", ".hg", ".svn", ".bzr", ".jj", "_darcs", ".pijul", "CVS", ".fossil"}

// Refusal says why meshc will not write a directory. It is the user's to
// act on, so the CLI prints it as it is.
type Refusal struct {
	Dir    string
	Reason string
	// Unmarked is set when the only objection is a missing marker, so a
	// caller that recognises an older meshc's layout may adopt the
	// directory.
	Unmarked bool
}

func (r *Refusal) Error() string { return fmt.Sprintf("refusing to write %s: %s", r.Dir, r.Reason) }

// State is what Check found.
type State int

// States of a directory meshc may write.
const (
	// Absent: the directory does not exist.
	Absent State = iota
	// Empty: it exists and holds nothing.
	Empty
	// Owned: it holds meshc's marker for this kind and mesh.
	Owned
)

// other is the kind a directory of kind must neither hold nor lie in: keys
// in a render output are deleted by the next render, and a render output
// in a certificates directory mixes files meshc replaces with keys it
// never does.
func (k Kind) other() Kind {
	if k == Certs {
		return Render
	}
	return Certs
}

// Check returns whether meshc may write dir as kind for mesh: it may when
// dir is absent or empty, or holds meshc's marker for kind and mesh, and
// holds, nowhere below its top, a version-control directory, one of inputs
// (files meshc read, such as the Mesh file) or a meshc directory of the
// other kind, and lies in no directory of the other kind. Any other
// directory is a *Refusal. Callers hold the Lock of dir, so the answer
// stays true while they write.
func Check(dir string, kind Kind, mesh string, inputs ...string) (State, error) {
	real, err := Resolve(dir)
	if err != nil {
		return 0, err
	}
	if above, err := Enclosing(filepath.Dir(real), kind.other()); err != nil {
		return 0, err
	} else if above != "" {
		return 0, &Refusal{Dir: dir, Reason: fmt.Sprintf("it is inside %s, %s, which %s; choose a directory of its own, such as %s", Shown(above), kind.other(), kind.other().replaces(), kind.hint())}
	}
	fi, err := os.Stat(real)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Absent, nil
	case err != nil:
		return 0, err
	case !fi.IsDir():
		return 0, &Refusal{Dir: dir, Reason: "it is not a directory"}
	}
	entries, err := os.ReadDir(real)
	if err != nil {
		return 0, err
	}
	if len(entries) == 0 {
		return Empty, nil
	}
	if r, err := checkBelow(dir, real, kind); r != nil {
		return 0, r
	} else if err != nil {
		return 0, err
	}
	for _, in := range inputs {
		if inside(real, in) {
			return 0, &Refusal{Dir: dir, Reason: fmt.Sprintf("it holds %s, which meshc reads; choose a directory of its own, such as %s", in, kind.hint())}
		}
	}
	got, gotMesh, err := ReadMarker(real)
	if err != nil {
		return 0, &Refusal{Dir: dir, Reason: fmt.Sprintf("it is not empty and its %s cannot be read (%v), so meshc cannot prove it wrote it", MarkerFile, err)}
	}
	switch {
	case got == "":
		return 0, &Refusal{Dir: dir, Unmarked: true, Reason: fmt.Sprintf("it is not empty and holds no %s marker, so meshc cannot prove it wrote it; move its files away or choose another directory (output of a meshc older than the marker: delete it and run again)", MarkerFile)}
	case got != kind:
		return 0, &Refusal{Dir: dir, Reason: fmt.Sprintf("its %s says it is %s, not %s", MarkerFile, got, kind)}
	case gotMesh != mesh:
		return 0, &Refusal{Dir: dir, Reason: fmt.Sprintf("its %s says meshc wrote it for mesh %q, not %q; choose another directory", MarkerFile, gotMesh, mesh)}
	}
	return Owned, nil
}

// checkBelow walks the tree under real (dir, resolved), symlinks not
// followed, for what a directory of kind must not hold: a version-control
// directory (or a .git file: a worktree) and a marker of the other kind.
func checkBelow(dir, real string, kind Kind) (*Refusal, error) {
	var found *Refusal
	err := filepath.WalkDir(real, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(real, p)
		rel = filepath.ToSlash(rel)
		if slices.Contains(vcsDirs, d.Name()) {
			found = &Refusal{Dir: dir, Reason: fmt.Sprintf("it holds %s, a version-control directory; meshc never writes into a checkout, choose a directory of its own, such as %s", rel, kind.hint())}
			return fs.SkipAll
		}
		if d.Name() == MarkerFile && p != filepath.Join(real, MarkerFile) {
			if k, _, _ := ReadMarker(filepath.Dir(p)); k == kind.other() {
				found = &Refusal{Dir: dir, Reason: fmt.Sprintf("it holds %s, %s, which %s; move it away or choose another directory", path.Dir(rel), kind.other(), kind.other().replaces())}
				return fs.SkipAll
			}
		}
		return nil
	})
	if found != nil {
		return found, nil
	}
	return nil, err
}

// replaces says what becomes of what a directory of kind holds.
func (k Kind) replaces() string {
	if k == Certs {
		return "holds private keys meshc never replaces"
	}
	return "the next render replaces as a whole"
}

// Resolve returns the directory dir names as the file system resolves it:
// absolute, every symlink resolved, also when dir or its last elements do
// not exist yet (the deepest existing ancestor is resolved and the rest
// appended). meshc swaps, locks and checks the directory Resolve returns.
// A symlink on the way whose target does not exist is an error: meshc
// neither replaces it nor guesses where it was meant to lead.
//
// A ".." after a symlink means the parent of the symlink's target to the
// kernel but the directory holding the symlink to filepath.Clean, and
// meshc both cleans paths and hands them to the kernel: such a path is an
// error, so that no spelling of a path can make a check and a write
// disagree.
func Resolve(dir string) (string, error) {
	real, err := resolve(dir)
	if err != nil || !slices.Contains(strings.Split(filepath.ToSlash(dir), "/"), "..") {
		return real, err
	}
	if lexical, err := resolve(filepath.Clean(dir)); err != nil || lexical != real {
		return "", fmt.Errorf("%s: its \"..\" climbs out of a symlinked directory, so it names %s to the file system but %s to meshc; give the directory without \"..\"",
			dir, Shown(real), Shown(lexical))
	}
	return real, nil
}

// resolve is Resolve with ".." as the kernel takes it.
func resolve(dir string) (string, error) {
	if !filepath.IsAbs(dir) {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		dir = wd + string(filepath.Separator) + dir
	}
	parts := strings.Split(dir, string(filepath.Separator))
	for i := len(parts); i > 0; i-- {
		prefix := strings.Join(parts[:i], string(filepath.Separator))
		if prefix == "" {
			prefix = string(filepath.Separator)
		}
		real, err := filepath.EvalSymlinks(prefix)
		if err == nil {
			return filepath.Join(append([]string{real}, parts[i:]...)...), nil
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return "", err
		}
		// A symlink whose target does not exist: the kernel would create
		// the target (or fail), where appending to the symlink's own path
		// would replace the symlink with a directory.
		if fi, lerr := os.Lstat(prefix); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			target, _ := os.Readlink(prefix)
			return "", fmt.Errorf("%s is a symlink to %s, which does not exist; create it or give another directory", Shown(prefix), target)
		}
	}
	return filepath.Clean(dir), nil
}

// Shown is p as messages show it: relative to the working directory when
// it lies below it, with forward slashes.
func Shown(p string) string {
	if wd, err := os.Getwd(); err == nil {
		if real, err := filepath.EvalSymlinks(wd); err == nil {
			wd = real
		}
		if rel, err := filepath.Rel(wd, p); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			p = rel
		}
	}
	return filepath.ToSlash(p)
}

// Enclosing returns the nearest of dir and its ancestors, resolved, that
// holds a marker of kind, or one of files, or "" when none does.
func Enclosing(dir string, kind Kind, files ...string) (string, error) {
	real, err := Resolve(dir)
	if err != nil {
		return "", err
	}
	for p := real; ; p = filepath.Dir(p) {
		if k, _, _ := ReadMarker(p); k == kind {
			return p, nil
		}
		for _, f := range files {
			if fi, err := os.Lstat(filepath.Join(p, f)); err == nil && fi.Mode().IsRegular() {
				return p, nil
			}
		}
		if filepath.Dir(p) == p {
			return "", nil
		}
	}
}

// ReadMarker returns the kind and mesh named by dir's marker, or "" when
// dir has none. A marker that is not a regular file (a symlink, say) is an
// error: meshc writes only regular files.
func ReadMarker(dir string) (Kind, string, error) {
	p := filepath.Join(dir, MarkerFile)
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", nil
	}
	if err != nil {
		return "", "", err
	}
	if !fi.Mode().IsRegular() || fi.Size() > 4096 {
		return "", "", errors.New("not a marker meshc wrote")
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return "", "", err
	}
	var kind, mesh string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ": ")
		switch {
		case !ok:
		case k == "kind":
			kind = v
		case k == "mesh":
			mesh = v
		}
	}
	if kind == "" || mesh == "" {
		return "", "", errors.New("not a marker meshc wrote")
	}
	return Kind(kind), mesh, nil
}

// inside reports whether file is dir or lies below it, symlinks resolved.
func inside(dir, file string) bool {
	d, err1 := filepath.EvalSymlinks(dir)
	f, err2 := filepath.EvalSymlinks(file)
	if err1 != nil || err2 != nil {
		return false
	}
	d, err1 = filepath.Abs(d)
	f, err2 = filepath.Abs(f)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(d, f)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
