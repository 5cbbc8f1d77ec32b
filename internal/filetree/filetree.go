// Package filetree reads a directory tree into memory, so tests can compare
// whole rendered trees (golden output, kustomize results) with one go-cmp diff.
//
// In: a directory. Out: every regular file's contents keyed by its slash path
// relative to that directory.
package filetree

import (
	"io/fs"
	"os"
	"path/filepath"
)

// Read returns every file under dir keyed by slash-separated relative path.
func Read(dir string) (map[string]string, error) {
	tree := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		tree[filepath.ToSlash(rel)] = string(b)
		return err
	})
	return tree, err
}
