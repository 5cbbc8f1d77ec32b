package main

import (
	"os"
	"path/filepath"
	"testing"

	"meshc.dev/meshc/compiler"
)

// TestInputExampleIsValid keeps the Mesh docs/input.md shows, which sets
// every field, valid.
func TestInputExampleIsValid(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, inputExample))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := compiler.Compile(inputExample, data); err != nil {
		t.Fatal(err)
	}
}
