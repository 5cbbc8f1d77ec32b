package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/format"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"

	"meshc.dev/meshc/schema"
)

// inputExample is the Mesh docs/input.md shows: it sets every field, and a
// test keeps it valid.
const inputExample = "schema/testdata/reference.yaml"

// definitions indexes the schema's top-level definitions by name.
type definitions map[string]*ast.Field

// inputDoc is docs/input.md: every field of the schema with its presence,
// accepted values and doc comment, and an example that sets every field.
func inputDoc(root string) ([]byte, error) {
	f, err := parser.ParseFile(schema.Filename, schema.Source, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	defs := definitions{}
	var structs []string // struct definitions, in source order
	for _, d := range f.Decls {
		fd, ok := d.(*ast.Field)
		if !ok {
			continue
		}
		name, _, _ := ast.LabelName(fd.Label)
		defs[name] = fd
		if _, ok := fd.Value.(*ast.StructLit); ok {
			structs = append(structs, name)
		}
	}
	example, err := os.ReadFile(filepath.Join(root, inputExample))
	if err != nil {
		return nil, err
	}

	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("<!-- Generated from schema/mesh.cue by internal/cmd/gendocs. Do not edit; run go generate ./... (or MESHC_UPDATE=1 go test ./...) -->\n\n")
	p("# Input reference\n\n")
	p("A Mesh file is one YAML document. Its shape is the CUE schema [schema/mesh.cue](../schema/mesh.cue), embedded in\n")
	p("meshc (`meshc schema` prints it) and the source of this page. Rules across fields and clusters, which the schema\n")
	p("cannot express, are in the [rule catalogue](rules.md).\n\n")
	p("A Mesh that sets every field ([%s](../%s), which a test\n", inputExample, inputExample)
	p("keeps valid):\n\n```yaml\n%s```\n", example)
	at := map[string]string{} // where each struct definition is used
	for _, name := range structs {
		fd := defs[name]
		p("\n## %s\n\n", title(name))
		if doc := strings.TrimPrefix(docText(fd), "#"); doc != "" {
			p("%s\n\n", doc)
		}
		if where, ok := at[name]; ok {
			p("At `%s`.\n\n", where)
		}
		p("| field | presence | value | meaning |\n| --- | --- | --- | --- |\n")
		for _, row := range defs.rows("", fd.Value.(*ast.StructLit)) {
			p("| `%s` | %s | %s | %s |\n", row.path, row.presence, md(row.value), md(row.doc))
			if row.uses != "" {
				at[row.uses] = strings.TrimPrefix(at[name]+"."+row.path, ".") + row.suffix
			}
		}
	}
	p("\n## Value formats\n\n")
	p("| format | accepted |\n| --- | --- |\n")
	for _, d := range f.Decls {
		fd, ok := d.(*ast.Field)
		if !ok {
			continue
		}
		name, _, _ := ast.LabelName(fd.Label)
		if s := expect(fd); s != "" {
			p("| %s | %s |\n", title(name), md(s))
		}
	}
	return []byte(b.String()), nil
}

// row is one field of a struct definition.
type row struct {
	path, presence, value, doc string
	uses, suffix               string // the struct definition the field holds, and "[]" if a list of them
}

// rows lists a struct's fields, descending into inline structs.
func (defs definitions) rows(prefix string, s *ast.StructLit) []row {
	var out []row
	for _, e := range s.Elts {
		fd, ok := e.(*ast.Field)
		if !ok {
			continue
		}
		label, _, _ := ast.LabelName(fd.Label)
		path := prefix + label
		if inner, ok := fd.Value.(*ast.StructLit); ok && !isMap(inner) {
			out = append(out, defs.rows(path+".", inner)...)
			continue
		}
		r := row{path: path, presence: presence(fd), value: defs.value(fd), doc: docText(fd)}
		r.uses, r.suffix = defs.structRef(fd.Value)
		out = append(out, r)
	}
	return out
}

// structRef returns the struct definition x holds, directly or as a list
// ("[]"), or "".
func (defs definitions) structRef(x ast.Expr) (name, suffix string) {
	switch x := x.(type) {
	case *ast.Ident:
		if d, ok := defs[x.Name]; ok {
			if _, isStruct := d.Value.(*ast.StructLit); isStruct {
				return x.Name, ""
			}
		}
	case *ast.BinaryExpr:
		if n, s := defs.structRef(x.X); n != "" {
			return n, s
		}
		return defs.structRef(x.Y)
	case *ast.ListLit:
		if len(x.Elts) == 1 {
			if el, ok := x.Elts[0].(*ast.Ellipsis); ok {
				n, _ := defs.structRef(el.Type)
				return n, "[]"
			}
		}
	}
	return "", ""
}

func presence(fd *ast.Field) string {
	switch fd.Constraint {
	case token.NOT:
		return "required"
	case token.OPTION:
		return "optional"
	}
	if d := defaultOf(fd.Value); d != nil {
		if id, ok := d.(*ast.Ident); ok {
			return "default: its `" + id.Name + "`"
		}
		return "default: `" + strings.Trim(source(d), `"`) + "`"
	}
	return "optional"
}

func defaultOf(x ast.Expr) ast.Expr {
	switch x := x.(type) {
	case *ast.UnaryExpr:
		if x.Op == token.MUL {
			return x.X
		}
	case *ast.BinaryExpr:
		if x.Op == token.OR {
			if d := defaultOf(x.X); d != nil {
				return d
			}
			return defaultOf(x.Y)
		}
	}
	return nil
}

// value describes what a field accepts: the wording of its expect attribute
// when it has one, else what its expression says.
func (defs definitions) value(fd *ast.Field) string {
	s := expect(fd)
	if s == "" {
		return defs.describe(fd.Value)
	}
	if n, _ := defs.structRef(fd.Value); n != "" {
		s += ": " + link(n)
	}
	return s
}

func link(def string) string {
	return "[" + title(def) + "](#" + strings.ToLower(title(def)) + ")"
}

func (defs definitions) describe(x ast.Expr) string {
	switch x := x.(type) {
	case *ast.Ident:
		if x.Name == "string" {
			return "a string"
		}
		if d, ok := defs[x.Name]; ok {
			if _, isStruct := d.Value.(*ast.StructLit); isStruct {
				return link(x.Name)
			}
			if expect(d) != "" {
				return "[" + title(x.Name) + "](#value-formats)"
			}
		}
		return "`" + x.Name + "`"
	case *ast.BasicLit:
		return "`" + x.Value + "`"
	case *ast.UnaryExpr:
		if x.Op == token.MUL {
			return defs.describe(x.X)
		}
	case *ast.BinaryExpr:
		if x.Op == token.OR {
			return defs.describe(x.X) + " or " + defs.describe(x.Y)
		}
	case *ast.ListLit:
		if len(x.Elts) == 1 {
			if el, ok := x.Elts[0].(*ast.Ellipsis); ok {
				return "a list of " + defs.describe(el.Type)
			}
		}
	case *ast.StructLit:
		if isMap(x) {
			return "a map of strings to strings"
		}
	}
	return "`" + source(x) + "`"
}

// isMap reports whether s is a pattern constraint like [string]: string.
func isMap(s *ast.StructLit) bool {
	if len(s.Elts) != 1 {
		return false
	}
	fd, ok := s.Elts[0].(*ast.Field)
	if !ok {
		return false
	}
	_, ok = fd.Label.(*ast.ListLit)
	return ok
}

var expectAttr = regexp.MustCompile(`^@meshc\(expect=("(?:[^"\\]|\\.)*")\)$`)

func expect(fd *ast.Field) string {
	for _, a := range fd.Attrs {
		if m := expectAttr.FindStringSubmatch(a.Text); m != nil {
			s, err := strconv.Unquote(m[1])
			if err == nil {
				return s
			}
		}
	}
	return ""
}

// docText is the field's doc comment as one paragraph.
func docText(n ast.Node) string {
	var parts []string
	for _, cg := range ast.Comments(n) {
		if cg.Doc {
			parts = append(parts, strings.Join(strings.Fields(cg.Text()), " "))
		}
	}
	return strings.Join(parts, " ")
}

func source(x ast.Expr) string {
	b, err := format.Node(x)
	if err != nil {
		return fmt.Sprint(x)
	}
	return string(b)
}

// title turns a definition name (#MeshSpec) into a heading (MeshSpec).
func title(def string) string { return strings.TrimPrefix(def, "#") }
