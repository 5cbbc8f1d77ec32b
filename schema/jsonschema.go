package schema

import (
	"bytes"
	"encoding/json"
	"fmt"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/ast/astutil"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"
	"cuelang.org/go/encoding/jsonschema"
)

// JSONSchema generates a JSON Schema (draft 2020-12) of a Mesh document from
// the CUE schema, for editors (yaml-language-server) that complete and check
// Mesh files as they are typed. It is derived, never written by hand:
// schema/mesh.schema.json is this function's output, kept in step by a test.
//
// JSON Schema cannot say "defaults to another field's value" (context
// defaults to the cluster's name), so such defaults are dropped and their
// fields made optional; everything else is CUE's own translation.
func JSONSchema() ([]byte, error) {
	f, err := parser.ParseFile(Filename, Source, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("parsing embedded schema: %w", err)
	}
	dropFieldDefaults(f)
	ctx := cuecontext.New()
	root := ctx.BuildFile(f)
	if err := root.Err(); err != nil {
		return nil, fmt.Errorf("compiling embedded schema: %w", err)
	}
	expr, err := jsonschema.Generate(root.LookupPath(cue.ParsePath("#Mesh")), nil)
	if err != nil {
		return nil, fmt.Errorf("generating JSON Schema: %w", err)
	}
	v := ctx.BuildExpr(expr)
	if err := v.Err(); err != nil {
		return nil, fmt.Errorf("generating JSON Schema: %w", err)
	}
	raw, err := v.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encoding JSON Schema: %w", err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return nil, fmt.Errorf("encoding JSON Schema: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// dropFieldDefaults rewrites `f: *other | T` to `f?: T` wherever the default
// refers to a field rather than a literal or a definition.
func dropFieldDefaults(f *ast.File) {
	isFieldDefault := func(x ast.Expr) bool {
		u, ok := x.(*ast.UnaryExpr)
		if !ok || u.Op != token.MUL {
			return false
		}
		id, ok := u.X.(*ast.Ident)
		return ok && !isDefinition(id.Name)
	}
	astutil.Apply(f, nil, func(c astutil.Cursor) bool {
		field, ok := c.Node().(*ast.Field)
		if !ok {
			return true
		}
		b, ok := field.Value.(*ast.BinaryExpr)
		if !ok || b.Op != token.OR {
			return true
		}
		switch {
		case isFieldDefault(b.X):
			field.Value = b.Y
		case isFieldDefault(b.Y):
			field.Value = b.X
		default:
			return true
		}
		field.Constraint = token.OPTION
		return true
	})
}

func isDefinition(name string) bool {
	return len(name) > 0 && name[0] == '#'
}
