package compiler

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Write replaces dir with the rendered tree, atomically: files are written
// into a fresh sibling directory that is renamed into place only when
// complete, so a failed write leaves the previous output untouched and a
// reader never sees half a tree.
//
// dir belongs to meshc: anything else in it is removed. To keep a typo in -o
// from deleting a user's work, Write refuses to replace an existing
// non-empty directory that holds no meshc plan.
func Write(out *Output, dir string) (err error) {
	dir = filepath.Clean(dir)
	if err := checkReplaceable(dir); err != nil {
		return err
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("creating output parent: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".new-")
	if err != nil {
		return fmt.Errorf("creating temporary output: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("creating temporary output: %w", err)
	}
	for _, f := range out.Files {
		p := filepath.Join(tmp, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("writing %s: %w", f.Path, err)
		}
		mode := f.Mode
		if mode == 0 {
			mode = 0o644
		}
		if err := os.WriteFile(p, f.Data, mode); err != nil {
			return fmt.Errorf("writing %s: %w", f.Path, err)
		}
	}

	var old string
	if _, err := os.Lstat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("moving previous output aside: %w", err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			_ = os.Rename(old, dir)
		}
		return fmt.Errorf("moving output into place: %w", err)
	}
	if old != "" {
		if err := os.RemoveAll(old); err != nil {
			return fmt.Errorf("removing previous output %s: %w", old, err)
		}
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
