// Package atomicdir replaces a directory with new contents all at once, so a
// reader, a failed run or a run killed at any instant never leaves half a
// tree, and a killed run's leftovers are found and cleaned up by the next.
//
// In: a directory path, a permission for the directories it creates, and the
// files to put there. Out: the directory holds exactly those files, or, on
// error, whatever it held before.
//
// The swap is one atomic exchange of two directory entries where the OS has
// one (Linux renameat2 RENAME_EXCHANGE). Elsewhere, or on a file system
// without it, the previous directory is renamed aside and the new one into
// place: a crash between those two renames leaves no directory at the path
// for an instant, and the next Replace (or Recover) renames the previous one
// back. Callers serialise concurrent Replaces of one path (see
// internal/ownership); atomicdir itself takes no lock.
package atomicdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// File is one file of the new tree; Path is slash-separated and relative.
type File struct {
	Path string
	Data []byte
	// Mode is set exactly, whatever the umask: private keys must be 0600.
	Mode fs.FileMode
}

// Names of the siblings a Replace of dir creates next to it. They start
// with a dot and name dir and meshc, so they are recognisable as leftovers
// and nothing else is ever taken for one.
const (
	newInfix = ".meshc-new-"
	oldInfix = ".meshc-old-"
)

// CrashEnv names the test hook: when it is set to a step name ("staged",
// "aside", "swapped"), Replace kills its own process at that step, as a
// power cut or kill -9 would. Only tests set it.
const CrashEnv = "MESHC_TEST_CRASH_AT"

// Replace writes files into a fresh temporary sibling of dir, syncs them to
// disk and swaps it into place, then removes the previous tree. dir's
// parent must exist. Directories are created with dirMode, exactly.
// Leftovers of an earlier, interrupted Replace of dir are cleaned up first.
func Replace(dir string, dirMode fs.FileMode, files []File) (err error) {
	dir = filepath.Clean(dir)
	if _, err := Recover(dir); err != nil {
		return err
	}
	parent, base := filepath.Dir(dir), filepath.Base(dir)
	tmp, err := os.MkdirTemp(parent, "."+base+newInfix)
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
	dirs := []string{tmp}
	for _, f := range files {
		p := filepath.Join(tmp, filepath.FromSlash(f.Path))
		if err := mkdirAll(tmp, filepath.Dir(p), dirMode, &dirs); err != nil {
			return fmt.Errorf("writing %s: %w", f.Path, err)
		}
		if err := writeFile(p, f.Data, f.Mode); err != nil {
			return fmt.Errorf("writing %s: %w", f.Path, err)
		}
	}
	// Data reaches the disk before the name does: after a power cut the
	// path holds the old tree or the whole new one, never empty files.
	if err := syncTree(tmp, files, dirs); err != nil {
		return fmt.Errorf("syncing %s: %w", tmp, err)
	}
	crashPoint("staged")

	if _, err := os.Lstat(dir); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := os.Rename(tmp, dir); err != nil {
			return fmt.Errorf("moving %s into place: %w", dir, err)
		}
		return syncDir(parent)
	}
	switch err := exchange(tmp, dir); {
	case err == nil:
		// tmp now holds the previous tree.
		crashPoint("swapped")
		if err := syncDir(parent); err != nil {
			return err
		}
		return removeOld(dir, tmp)
	case !errors.Is(err, errNoExchange):
		return fmt.Errorf("moving %s into place: %w", dir, err)
	}
	old := filepath.Join(parent, "."+base+oldInfix+strings.TrimPrefix(filepath.Base(tmp), "."+base+newInfix))
	if err := os.Rename(dir, old); err != nil {
		return fmt.Errorf("moving previous %s aside: %w", dir, err)
	}
	crashPoint("aside")
	if err := os.Rename(tmp, dir); err != nil {
		if rerr := os.Rename(old, dir); rerr != nil {
			return fmt.Errorf("moving %s into place: %w (the previous one is at %s: %v)", dir, err, old, rerr)
		}
		return fmt.Errorf("moving %s into place: %w", dir, err)
	}
	crashPoint("swapped")
	if err := syncDir(parent); err != nil {
		return err
	}
	return removeOld(dir, old)
}

func removeOld(dir, old string) error {
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("removing previous %s (at %s): %w", dir, old, err)
	}
	return nil
}

// Leftovers lists the siblings of dir that an interrupted Replace of dir
// left behind, sorted by name. Only directories named by Replace count.
func Leftovers(dir string) ([]string, error) {
	dir = filepath.Clean(dir)
	parent, base := filepath.Dir(dir), filepath.Base(dir)
	entries, err := os.ReadDir(parent)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsDir() && (strings.HasPrefix(n, "."+base+newInfix) || strings.HasPrefix(n, "."+base+oldInfix)) {
			out = append(out, filepath.Join(parent, n))
		}
	}
	return out, nil
}

// LeftoverOf reports whether name is the name of a directory Replace
// creates next to a directory, and of which one: ".out.meshc-new-123" is a
// leftover of "out".
func LeftoverOf(name string) (base string, ok bool) {
	if !strings.HasPrefix(name, ".") {
		return "", false
	}
	for _, infix := range []string{newInfix, oldInfix} {
		if i := strings.LastIndex(name, infix); i > 1 {
			return name[1:i], true
		}
	}
	return "", false
}

// Recover undoes what an interrupted Replace of dir left: when dir is
// missing but its previous tree was moved aside, that tree is moved back;
// every other leftover is removed. It returns the leftovers it found.
// Callers must hold the lock that serialises Replaces of dir.
func Recover(dir string) ([]string, error) {
	left, err := Leftovers(dir)
	if err != nil || len(left) == 0 {
		return left, err
	}
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		for _, l := range left {
			if strings.HasPrefix(filepath.Base(l), "."+filepath.Base(dir)+oldInfix) {
				if err := os.Rename(l, dir); err != nil {
					return left, fmt.Errorf("restoring %s from %s: %w", dir, l, err)
				}
				break
			}
		}
	}
	for _, l := range left {
		if err := os.RemoveAll(l); err != nil {
			return left, fmt.Errorf("removing %s, left by an interrupted run: %w", l, err)
		}
	}
	return left, syncDir(filepath.Dir(dir))
}

func writeFile(p string, data []byte, mode fs.FileMode) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncFiles fsyncs each file and directory of a new tree, for systems with
// no cheaper way to flush it.
func syncFiles(root string, files []File, dirs []string) error {
	for _, f := range files {
		if err := syncPath(filepath.Join(root, filepath.FromSlash(f.Path))); err != nil {
			return err
		}
	}
	for _, d := range dirs {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}

func syncPath(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes a directory's entries (a rename into it) durable.
func syncDir(dir string) error {
	if err := syncPath(dir); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

// crashPoint kills the process at step when the test hook asks for it.
func crashPoint(step string) {
	if os.Getenv(CrashEnv) != step {
		return
	}
	p, err := os.FindProcess(os.Getpid())
	if err == nil {
		p.Kill()
	}
	select {} // the kill is asynchronous; never go on to the next step
}

// mkdirAll creates dir and its parents below root with exactly mode,
// recording each new directory in dirs.
func mkdirAll(root, dir string, mode fs.FileMode, dirs *[]string) error {
	if dir == root {
		return nil
	}
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := mkdirAll(root, filepath.Dir(dir), mode, dirs); err != nil {
		return err
	}
	if err := os.Mkdir(dir, mode); err != nil && !os.IsExist(err) {
		return err
	}
	*dirs = append(*dirs, dir)
	return os.Chmod(dir, mode)
}
