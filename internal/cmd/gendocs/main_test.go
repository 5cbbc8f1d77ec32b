package main

import (
	"os/exec"
	"path/filepath"
	"strings"
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

// TestLinksNoTestCode: gendocs is a program, not a test, so it must not link
// the testing package (nor internal/golden, which needs it): it reads the
// invalid cases through internal/cases.
func TestLinksNoTestCode(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "meshc.dev/meshc/internal/cmd/gendocs").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "testing" || dep == "meshc.dev/meshc/internal/golden" {
			t.Errorf("gendocs links %s", dep)
		}
	}
}
