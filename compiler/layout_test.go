package compiler_test

import (
	"bufio"
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestStepsImportOnlyWhatTheyNeed: the packages are the pipeline. The model
// (mesh) runs no template and knows no later step; the rules read the
// model; render reads the model and the templates and touches no file
// system; only output writes; diag, which every step uses, uses none.
func TestStepsImportOnlyWhatTheyNeed(t *testing.T) {
	const m = "meshc.dev/meshc/"
	later := func(pkgs ...string) []string {
		var out []string
		for _, p := range pkgs {
			out = append(out, m+p)
		}
		return out
	}
	forbidden := map[string][]string{
		"mesh":   append(later("templates", "rules", "render", "output", "compiler", "internal/ownership"), "text/template"),
		"rules":  append(later("templates", "render", "output", "compiler"), "os", "text/template"),
		"render": append(later("rules", "compiler", "internal/ownership", "internal/atomicdir"), "os"),
		"output": later("mesh", "rules", "render", "templates", "compiler"),
		"diag":   append(later("mesh", "rules", "render", "output", "templates", "compiler"), "os"),
	}
	for pkg, bad := range forbidden {
		p, err := build.ImportDir(filepath.Join("..", pkg), 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range p.Imports {
			if slices.Contains(bad, imp) {
				t.Errorf("%s imports %s", pkg, imp)
			}
		}
	}
}

// TestNoPackageHoldsAQuarter: no package of the main module holds more than
// a quarter of its non-test lines, so the pipeline stays visible in the
// layout rather than in a comment.
func TestNoPackageHoldsAQuarter(t *testing.T) {
	lines := map[string]int{}
	total := 0
	err := filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			// Other modules and test data are not the main module's code.
			if p != ".." && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil && p != ".." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		n := 0
		for sc := bufio.NewScanner(f); sc.Scan(); {
			n++
		}
		lines[filepath.Dir(p)] += n
		total += n
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total < 10000 {
		t.Fatalf("counted %d lines: not the main module", total)
	}
	for dir, n := range lines {
		if 4*n > total {
			t.Errorf("%s holds %d of the main module's %d non-test lines, more than a quarter", dir, n, total)
		}
	}
}
