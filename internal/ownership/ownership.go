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
// proves nothing: users write those too. A directory that holds a
// version-control checkout or one of the input files is never meshc's,
// whatever marker it holds.
package ownership

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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

// Check returns whether meshc may write dir as kind for mesh: it may when
// dir is absent or empty, or holds meshc's marker for kind and mesh, and
// holds neither a version-control directory nor one of inputs (files meshc
// read, such as the Mesh file). Any other directory is a *Refusal.
// Callers hold the Lock of dir, so the answer stays true while they write.
func Check(dir string, kind Kind, mesh string, inputs ...string) (State, error) {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Absent, nil
	case err != nil:
		return 0, err
	case !fi.IsDir():
		return 0, &Refusal{Dir: dir, Reason: "it is not a directory"}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	if len(entries) == 0 {
		return Empty, nil
	}
	for _, e := range entries {
		for _, v := range vcsDirs {
			if e.Name() == v {
				return 0, &Refusal{Dir: dir, Reason: fmt.Sprintf("it holds %s, a version-control directory; meshc never writes into a checkout, choose a directory of its own, such as %s", v, kind.hint())}
			}
		}
	}
	for _, in := range inputs {
		if inside(dir, in) {
			return 0, &Refusal{Dir: dir, Reason: fmt.Sprintf("it holds %s, which meshc reads; choose a directory of its own, such as %s", in, kind.hint())}
		}
	}
	got, gotMesh, err := ReadMarker(dir)
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
