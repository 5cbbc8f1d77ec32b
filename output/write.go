package output

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"meshc.dev/meshc/internal/atomicdir"
	"meshc.dev/meshc/internal/ownership"
)

// MarkerFile is the ownership marker Write puts at the top of the output,
// naming the mesh; Write replaces only a directory that holds it.
const MarkerFile = ownership.MarkerFile

// Write replaces dir with the rendered tree, atomically: files are written
// into a fresh sibling directory, synced, and exchanged with dir only when
// complete, so dir holds at every instant either the previous render or
// the new one, and a failed write leaves the previous output untouched.
//
// dir belongs to meshc: anything else in it is removed. So Write replaces
// only a directory it can prove it wrote (its marker names this mesh),
// never one holding the input file or a version-control checkout, and
// says why it refuses. Concurrent Writes of one dir are serialised by a
// lock; leftovers of an interrupted Write are cleaned up.
func Write(out *Output, dir string) error {
	// Everything below happens to the directory the file system resolves
	// dir to: a symlink named out is written through, never replaced.
	real, err := ownership.Resolve(dir)
	dir = filepath.Clean(dir) // for messages
	if err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	if wd, err := ownership.Resolve("."); err == nil && (real == wd || isAncestor(real, wd)) {
		return fmt.Errorf("output directory %s contains the working directory; choose a directory of its own, such as out/", dir)
	}
	if real == filepath.Dir(real) {
		return fmt.Errorf("output directory %s is a filesystem root", dir)
	}
	if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
		return fmt.Errorf("creating output parent: %w", err)
	}
	unlock, err := ownership.Lock(real)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := atomicdir.Recover(real); err != nil {
		return fmt.Errorf("cleaning up an interrupted render: %w", err)
	}
	var inputs []string
	if out.Input != "" {
		inputs = append(inputs, out.Input)
	}
	if _, err := ownership.Check(dir, ownership.Render, out.Mesh, inputs...); err != nil {
		return err
	}
	owned := out.Owned()
	files := make([]atomicdir.File, len(owned.Files))
	for i, f := range owned.Files {
		files[i] = atomicdir.File{Path: f.Path, Data: f.Data, Mode: cmp.Or(f.Mode, 0o644)}
	}
	if err := atomicdir.Replace(real, 0o755, files); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return nil
}

// Owned is out as Write writes it: the rendered files and the ownership
// marker, sorted by path. Diff compares a directory with it.
func (o *Output) Owned() *Output {
	files := make([]File, 0, len(o.Files)+1)
	files = append(files, o.Files...)
	files = append(files, File{Path: MarkerFile, Data: ownership.Marker(ownership.Render, o.Mesh)})
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return &Output{Files: files, Mesh: o.Mesh, Input: o.Input}
}

// Leftovers lists what an interrupted Write of dir left next to it; the next
// Write removes them.
func Leftovers(dir string) ([]string, error) {
	real, err := ownership.Resolve(dir)
	if err != nil {
		return nil, err
	}
	return atomicdir.Leftovers(real)
}

func isAncestor(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != "." && !filepath.IsAbs(rel) && rel != ".." && !startsWithDotDot(rel)
}

func startsWithDotDot(rel string) bool {
	return len(rel) >= 3 && rel[:3] == ".."+string(filepath.Separator)
}
