package compiler

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"meshc.dev/meshc/internal/atomicdir"
)

// Write replaces dir with the rendered tree, atomically: files are written
// into a fresh sibling directory that is renamed into place only when
// complete, so a failed write leaves the previous output untouched and a
// reader never sees half a tree.
//
// dir belongs to meshc: anything else in it is removed. To keep a typo in -o
// from deleting a user's work, Write refuses to replace an existing
// non-empty directory that holds no meshc plan.
func Write(out *Output, dir string) error {
	dir = filepath.Clean(dir)
	if err := checkReplaceable(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("creating output parent: %w", err)
	}
	files := make([]atomicdir.File, len(out.Files))
	for i, f := range out.Files {
		files[i] = atomicdir.File{Path: f.Path, Data: f.Data, Mode: cmp.Or(f.Mode, 0o644)}
	}
	if err := atomicdir.Replace(dir, 0o755, files); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return nil
}

func checkReplaceable(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	if wd, err := os.Getwd(); err == nil && (abs == wd || isAncestor(abs, wd)) {
		return fmt.Errorf("output directory %s contains the working directory; choose a directory of its own, such as out/", dir)
	}
	if abs == filepath.Dir(abs) {
		return fmt.Errorf("output directory %s is a filesystem root", dir)
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("output directory: %w", err)
	case len(entries) == 0:
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, PlanFile)); err != nil {
		return fmt.Errorf("refusing to replace %s: it is not empty and holds no %s, so meshc did not write it", dir, PlanFile)
	}
	return nil
}

func isAncestor(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != "." && !filepath.IsAbs(rel) && rel != ".." && !startsWithDotDot(rel)
}

func startsWithDotDot(rel string) bool {
	return len(rel) >= 3 && rel[:3] == ".."+string(filepath.Separator)
}
