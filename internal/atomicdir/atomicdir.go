// Package atomicdir replaces a directory with new contents all at once, so a
// reader (or a failed run) never sees half a tree.
//
// In: a directory path, a permission for the directories it creates, and the
// files to put there. Out: the directory holds exactly those files, or, on
// error, whatever it held before.
package atomicdir

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File is one file of the new tree; Path is slash-separated and relative.
type File struct {
	Path string
	Data []byte
	// Mode is set exactly, whatever the umask: private keys must be 0600.
	Mode fs.FileMode
}

// Replace writes files into a fresh temporary sibling of dir and renames it
// into place, moving any previous dir aside first and restoring it if the
// rename fails. dir's parent must exist. Directories are created with
// dirMode, exactly.
func Replace(dir string, dirMode fs.FileMode, files []File) (err error) {
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".new-")
	if err != nil {
		return fmt.Errorf("creating temporary directory: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, dirMode); err != nil {
		return fmt.Errorf("creating temporary directory: %w", err)
	}
	for _, f := range files {
		p := filepath.Join(tmp, filepath.FromSlash(f.Path))
		if err := mkdirAll(tmp, filepath.Dir(p), dirMode); err != nil {
			return fmt.Errorf("writing %s: %w", f.Path, err)
		}
		if err := os.WriteFile(p, f.Data, f.Mode); err != nil {
			return fmt.Errorf("writing %s: %w", f.Path, err)
		}
		if err := os.Chmod(p, f.Mode); err != nil {
			return fmt.Errorf("writing %s: %w", f.Path, err)
		}
	}

	var old string
	if _, err := os.Lstat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("moving previous %s aside: %w", dir, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			_ = os.Rename(old, dir)
		}
		return fmt.Errorf("moving %s into place: %w", dir, err)
	}
	if old != "" {
		if err := os.RemoveAll(old); err != nil {
			return fmt.Errorf("removing previous %s (at %s): %w", dir, old, err)
		}
	}
	return nil
}

// mkdirAll creates dir and its parents below root with exactly mode.
func mkdirAll(root, dir string, mode fs.FileMode) error {
	if dir == root {
		return nil
	}
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := mkdirAll(root, filepath.Dir(dir), mode); err != nil {
		return err
	}
	if err := os.Mkdir(dir, mode); err != nil && !os.IsExist(err) {
		return err
	}
	return os.Chmod(dir, mode)
}
