package main

import (
	"path/filepath"
	"testing"

	"meshc.dev/meshc/internal/golden"
)

// TestGeneratedFilesFresh fails when a generated file differs from what
// gendocs writes now; MESHC_UPDATE=1 go test ./... (or go generate ./...)
// rewrites it.
func TestGeneratedFilesFresh(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	for name, gen := range generated {
		data, err := gen(root)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		golden.File(t, filepath.Join(root, name), data)
	}
}
