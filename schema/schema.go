package schema

import (
	_ "embed"
	"fmt"

	"cuelang.org/go/cue"
)

// Filename is the name positions inside the schema carry, so a message that
// points at the schema is never mistaken for one about the user's file.
const Filename = "schema/mesh.cue"

// Source is the CUE text of the schema, printed by `meshc schema`.
//
//go:embed mesh.cue
var Source []byte

// Mesh compiles the schema in ctx and returns its #Mesh definition. Each load
// uses its own context (CUE values are not safe for concurrent evaluation);
// compiling this small file costs well under a millisecond.
func Mesh(ctx *cue.Context) (cue.Value, error) {
	root := ctx.CompileBytes(Source, cue.Filename(Filename))
	if err := root.Err(); err != nil {
		return cue.Value{}, fmt.Errorf("compiling embedded schema: %w", err)
	}
	def := root.LookupPath(cue.ParsePath("#Mesh"))
	if err := def.Err(); err != nil {
		return cue.Value{}, fmt.Errorf("embedded schema: %w", err)
	}
	return def, nil
}

// Expectation returns the wording of a @meshc(expect="...") attribute on v or
// on the definition v refers to, or "" when neither has one.
func Expectation(v cue.Value) string {
	if s := expectAttr(v); s != "" {
		return s
	}
	if root, p := v.ReferencePath(); len(p.Selectors()) > 0 {
		return expectAttr(root.LookupPath(p))
	}
	return ""
}

func expectAttr(v cue.Value) string {
	a := v.Attribute("meshc")
	if a.Err() != nil {
		return ""
	}
	s, ok, err := a.Lookup(0, "expect")
	if err != nil || !ok {
		return ""
	}
	return s
}
