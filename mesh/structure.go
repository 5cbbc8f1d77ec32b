package mesh

import (
	"fmt"
	"slices"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"

	"meshc.dev/meshc/diag"
)

// structural walks the input next to the schema, reporting unknown fields
// (with a suggestion for near misses) and missing required fields. CUE
// reports these too, but stops at the first conflict in a struct and cannot
// suggest a fix; the walk sees every field.
func structural(filename string, doc cue.Value, def *schemaNode, path cue.Path, ps *problemList) {
	switch doc.IncompleteKind() {
	case cue.StructKind:
		known, required, ok := def.structFields()
		if !ok {
			return
		}
		present := map[string]bool{}
		fields, err := doc.Fields()
		if err != nil {
			return
		}
		for fields.Next() {
			name := fields.Selector().Unquoted()
			present[name] = true
			sub := appendPath(path, fields.Selector())
			sdef, ok := known[name]
			if !ok {
				if def.v.Allows(cue.Str(name)) {
					continue // a pattern field, e.g. a label
				}
				if ps.full() {
					ps.more++ // counted, not worded
					continue
				}
				if len(known) == 0 {
					// A map whose keys the schema constrains: the only
					// such maps are labels (#LabelKey).
					ps.add(diag.Problem{Pos: keyPos(fields), Path: pathString(sub),
						Message: "label key " + diag.Quote(name) + " is not a Kubernetes label key (an optional DNS subdomain and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)"})
					continue
				}
				names := make([]string, 0, len(known))
				for k := range known {
					names = append(names, k)
				}
				slices.Sort(names)
				p := diag.Problem{Pos: keyPos(fields), Path: pathString(sub), Message: "unknown field " + diag.Quote(name),
					Suggestion: diag.Suggest(name, names)}
				if p.Suggestion == "" {
					p.Message += fmt.Sprintf(" (allowed: %s)", strings.Join(names, ", "))
				}
				ps.add(p)
				continue
			}
			structural(filename, fields.Value(), sdef, sub, ps)
		}
		for _, name := range required {
			if !present[name] {
				pos := doc.Pos().Position()
				if !pos.IsValid() {
					// The document root has no position of its own.
					pos = token.Position{Filename: filename, Line: 1, Column: 1}
				}
				ps.add(diag.Problem{
					Pos:     pos,
					Path:    pathString(path),
					Message: fmt.Sprintf("missing required field %q", name),
				})
			}
		}
	case cue.ListKind:
		elem := def.element()
		if elem == nil {
			return
		}
		items, err := doc.List()
		if err != nil {
			return
		}
		for i := 0; items.Next(); i++ {
			structural(filename, items.Value(), elem, appendPath(path, cue.Index(i)), ps)
		}
	}
}

// schemaNode is one value of the schema as the structural walk sees it. Its
// fields and list element are looked up once and shared, so the clusters of
// a 1000-cluster mesh are all checked against one #Cluster node instead of
// asking CUE for #Cluster's fields 1000 times.
type schemaNode struct {
	v cue.Value

	fieldsDone bool
	isStruct   bool
	fields     map[string]*schemaNode
	required   []string

	elemDone bool
	elem     *schemaNode
}

func newSchemaNode(v cue.Value) *schemaNode { return &schemaNode{v: v} }

// structFields returns the fields the schema allows here (optional ones
// included), the names of the required ones, and whether the schema is a
// struct at all.
func (n *schemaNode) structFields() (map[string]*schemaNode, []string, bool) {
	if !n.fieldsDone {
		n.fieldsDone = true
		if n.v.IncompleteKind()&cue.StructKind == 0 {
			return nil, nil, false
		}
		it, err := n.v.Fields(cue.Optional(true), cue.Definitions(false))
		if err != nil {
			return nil, nil, false
		}
		n.isStruct = true
		n.fields = map[string]*schemaNode{}
		for it.Next() {
			name := it.Selector().Unquoted()
			n.fields[name] = newSchemaNode(it.Value())
			if it.Selector().ConstraintType() == cue.RequiredConstraint {
				n.required = append(n.required, name)
			}
		}
	}
	return n.fields, n.required, n.isStruct
}

// element returns the schema of the list's elements, or nil.
func (n *schemaNode) element() *schemaNode {
	if !n.elemDone {
		n.elemDone = true
		if e := n.v.LookupPath(cue.MakePath(cue.AnyIndex)); e.Exists() {
			n.elem = newSchemaNode(e)
		}
	}
	return n.elem
}

// keyPos is the position of the field's label, which is where an editor
// should put the cursor for an unknown field.
func keyPos(it *cue.Iterator) token.Position {
	v := it.Value()
	if f, ok := v.Source().(*ast.Field); ok && f.Label != nil {
		return f.Label.Pos().Position()
	}
	return v.Pos().Position()
}
