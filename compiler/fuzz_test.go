package compiler_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/render"
)

// FuzzCheck feeds arbitrary bytes through Load, Validate and Render. Input
// can be wrong in any way, but meshc must never panic, every error it
// returns about the input must be a Problem positioned in the input file,
// and what it renders from input it accepts must parse: every YAML
// document, the SVG as XML (checkWellFormed; TestRenderedOutputWellFormed
// adds bash -n for the scripts).
// The seeds are every example, every negative test input and every Mesh in
// the CLI scripts; crashers found
// by `make fuzz` land in testdata/fuzz/FuzzCheck and run with go test.
func FuzzCheck(f *testing.F) {
	seeds, _ := filepath.Glob("../examples/*/mesh.yaml")
	nested, _ := filepath.Glob("../examples/*/*/mesh.yaml") // examples/kustomize/base
	seeds = append(seeds, nested...)
	if len(seeds) < 5 {
		f.Fatalf("only %d seed files found", len(seeds))
	}
	for _, s := range seeds {
		f.Add(mustRead(f, s))
	}
	for _, c := range invalidCases(f) {
		f.Add(c.Input)
	}
	// The CLI scripts' own Mesh inputs, good and bad.
	scripts, _ := filepath.Glob("../cmd/meshc/testdata/script/*.txtar")
	for _, s := range scripts {
		ar, err := txtar.ParseFile(s)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range ar.Files {
			if strings.HasSuffix(file.Name, ".yaml") && bytes.Contains(file.Data, []byte("kind: Mesh")) {
				f.Add(file.Data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "fuzz.yaml"
		m, out, err := compiler.Compile(name, data)
		if err == nil {
			if m == nil || out == nil || out.Lookup(render.PlanFile) == nil {
				t.Fatalf("valid input, but no mesh or no plan: %v %v", m, out)
			}
			checkWellFormed(t, out)
			return
		}
		var ps diag.Problems
		if !errors.As(err, &ps) {
			t.Fatalf("input caused an error that is not a Problem: %v", err)
		}
		if len(ps) == 0 {
			t.Fatal("empty Problems returned as an error")
		}
		for _, p := range ps {
			if p.Pos.Filename != name || p.Pos.Line < 1 || p.Pos.Column < 1 || p.Message == "" {
				t.Errorf("problem not positioned in the input: %q (pos %+v)", p.String(), p.Pos)
			}
		}
	})
}
