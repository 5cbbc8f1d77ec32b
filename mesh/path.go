package mesh

import (
	"fmt"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"

	"meshc.dev/meshc/diag"
)

func appendPath(p cue.Path, s cue.Selector) cue.Path {
	return cue.MakePath(append(p.Selectors(), s)...)
}

// pathString prints a path the way users and kustomize write field paths:
// spec.clusters[1].role.
func pathString(p cue.Path) string {
	var b strings.Builder
	for _, s := range p.Selectors() {
		if s.Type() == cue.IndexLabel {
			fmt.Fprintf(&b, "[%d]", s.Index())
			continue
		}
		if u := s.Unquoted(); !plainKey(u) {
			// A key with a newline, a dot or a megabyte of text must not
			// break the one-line message or the path's syntax.
			fmt.Fprintf(&b, "[%s]", diag.Quote(u))
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.Unquoted())
	}
	return b.String()
}

// positionOf finds the input position of path in doc: the value itself for
// a scalar (where an editor should put the cursor), the key for a mapping or
// list. A path missing from the input falls back to the nearest enclosing
// value that exists.
func positionOf(doc cue.Value, path string) token.Position {
	p := cue.ParsePath(path)
	if p.Err() != nil {
		return doc.Pos().Position()
	}
	sels := p.Selectors()
	for n := len(sels); n >= 0; n-- {
		v := doc.LookupPath(cue.MakePath(sels[:n]...))
		if !v.Exists() {
			continue
		}
		if f, ok := v.Source().(*ast.Field); ok && n == len(sels) && f.Value != nil &&
			v.IncompleteKind()&(cue.StructKind|cue.ListKind) == 0 {
			if pos := f.Value.Pos(); pos.IsValid() {
				return pos.Position()
			}
		}
		if pos := v.Pos(); pos.IsValid() {
			return pos.Position()
		}
	}
	return token.Position{}
}
