package mesh

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/token"
	"cuelang.org/go/encoding/yaml"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/schema"
)

// MaxInputSize bounds the input Load accepts. A 1000-cluster mesh is about
// 150 KiB; anything near this limit is a mistake, not a mesh.
const MaxInputSize = 4 << 20

// LoadFile reads and loads the Mesh document in the named file.
func LoadFile(name string) (*Mesh, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("reading mesh: %w", err)
	}
	defer f.Close()
	data, err := ReadInput(f)
	if err != nil {
		return nil, err
	}
	return Load(name, data)
}

// ReadInput reads a Mesh document from r, stopping one byte past
// MaxInputSize, so a wrong file (an image, a log) costs neither time nor
// memory; Load then reports the oversized input as a Problem like any other.
// Only a read failure is an error.
func ReadInput(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxInputSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading mesh: %w", err)
	}
	return data, nil
}

// load is Load without the limits on what it reports (limits.go).
func load(filename string, data []byte) (*Mesh, error) {
	if ps := checkBytes(filename, data); ps != nil {
		return nil, ps
	}
	if ps := checkYAML(filename, data); ps != nil {
		ps.Sort()
		return nil, ps
	}
	ctx := cuecontext.New()
	def, err := schema.Mesh(ctx)
	if err != nil {
		return nil, err
	}
	file, err := yaml.Extract(filename, data)
	if err != nil {
		return nil, yamlProblems(filename, err)
	}
	doc := ctx.BuildFile(file)
	if err := doc.Err(); err != nil {
		return nil, fromCUE(err, "")
	}
	if doc.IncompleteKind() != cue.StructKind {
		what := "a list"
		if doc.IncompleteKind() != cue.ListKind {
			what = "a scalar"
		}
		return nil, diag.Problems{{
			Pos:     token.Position{Filename: filename, Line: 1, Column: 1},
			Message: fmt.Sprintf("expected a single Mesh document (a YAML mapping with apiVersion, kind, metadata and spec), found %s", what),
		}}
	}

	var found problemList
	structural(filename, doc, newSchemaNode(def), cue.Path{}, &found)
	if found.full() {
		// Past MaxProblems, CUE's report of them (quadratic in their
		// number) would tell nothing more.
		return nil, found.list()
	}
	ps := found.ps
	unified := def.Unify(doc)
	errs := validate(unified)
	if len(errs) == 0 {
		if err := unified.Validate(cue.Concrete(true), cue.All()); err != nil {
			errs = cueerrors.Errors(err)
		}
	}
	if len(errs) > 0 {
		ps = append(ps, translate(errs, doc, def)...)
		if len(ps) == 0 {
			// Every CUE error was one the structural walk should have named;
			// never let input fail silently.
			ps = fromCUE(errs[0], filename)
		}
	}
	if len(ps) > 0 {
		ps.Sort()
		return nil, ps
	}
	// Through JSON rather than unified.Decode: the same values by the same
	// field tags, in 60% of the time (40 ms for 1000 clusters with Decode).
	js, err := unified.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("decoding mesh: %w", err)
	}
	m := &Mesh{}
	if err := decodeMesh(js, m); err != nil {
		return nil, err
	}
	m.File, m.data = filename, doc
	m.topology = newTopology(m)
	return m, nil
}

// decodeMesh decodes the schema-checked document into the Go model,
// refusing a field the model lacks: TestModelMatchesSchema keeps the two in
// step, and this keeps a drift from ever dropping input silently.
func decodeMesh(js []byte, m *Mesh) error {
	d := json.NewDecoder(bytes.NewReader(js))
	d.DisallowUnknownFields()
	if err := d.Decode(m); err != nil {
		return fmt.Errorf("decoding mesh (the Go model and schema/mesh.cue disagree): %w", err)
	}
	return nil
}

// checkBytes rejects input that is not worth parsing, with a position: too
// large, empty, not UTF-8, or holding a raw control character (which the
// YAML parser rejects without saying where) or another character no part
// of a Mesh file may hold (unsafeInSource). Values get the wider check of
// UnsafeRune in checkYAML.
func checkBytes(filename string, data []byte) diag.Problems {
	at := func(off int, msg string) diag.Problems {
		return diag.Problems{{Pos: bytePos(filename, data, off), Message: msg}}
	}
	switch {
	case len(data) > MaxInputSize:
		return at(0, fmt.Sprintf("input exceeds %d bytes (%d MiB), the most meshc reads; a Mesh document is far smaller", MaxInputSize, MaxInputSize>>20))
	case len(bytes.TrimSpace(data)) == 0:
		return at(0, "file is empty; expected a Mesh document")
	}
	for off := 0; off < len(data); {
		b := data[off]
		if b < utf8.RuneSelf {
			if (b < 0x20 && b != '\t' && b != '\n' && b != '\r') || b == 0x7f {
				return at(off, fmt.Sprintf("input holds %s; only printable characters are allowed", runeName(rune(b))))
			}
			off++
			continue
		}
		r, n := utf8.DecodeRune(data[off:])
		switch {
		case r == utf8.RuneError && n <= 1:
			return at(off, "input is not valid UTF-8")
		case r == '\ufeff' && off == 0: // a byte-order mark may start the file
		case unsafeInSource(r):
			return at(off, fmt.Sprintf("input holds %s; only printable characters are allowed", runeName(r)))
		}
		off += n
	}
	return nil
}

// bytePos is the line and column of byte off in data, the column counted in
// characters as the YAML parser counts it.
func bytePos(filename string, data []byte, off int) token.Position {
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	start := bytes.LastIndexByte(data[:off], '\n') + 1
	return token.Position{Filename: filename, Line: line, Column: 1 + utf8.RuneCount(data[start:off])}
}

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
				msg := "unknown field " + diag.Quote(name)
				if s := diag.Suggest(name, names); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				} else {
					msg += fmt.Sprintf(" (allowed: %s)", strings.Join(names, ", "))
				}
				ps.add(diag.Problem{Pos: keyPos(fields), Path: pathString(sub), Message: msg})
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

// translate turns CUE's errors into Problems with meshc's wording: the path,
// what the schema expects and what the input holds.
func translate(errs []cueerrors.Error, doc, def cue.Value) diag.Problems {
	type group struct {
		path cue.Path
		errs []cueerrors.Error
	}
	var order []string
	groups := map[string]*group{}
	for _, e := range errs {
		format, _ := e.Msg()
		switch {
		case strings.Contains(format, "field not allowed"),
			strings.Contains(format, "field is required but not present"),
			strings.HasPrefix(format, "incomplete value"),
			strings.HasPrefix(format, "non-concrete value"),
			strings.Contains(format, "cannot convert non-concrete"),
			strings.Contains(format, "errors in empty disjunction"):
			continue
		}
		p := dataPath(e.Path())
		key := p.String()
		g, ok := groups[key]
		if !ok {
			g = &group{path: p}
			groups[key] = g
			order = append(order, key)
		}
		g.errs = append(g.errs, e)
	}
	var ps diag.Problems
	for _, key := range order {
		g := groups[key]
		got := doc.LookupPath(g.path)
		want := expectation(def.LookupPath(schemaPath(g.path)))
		var msg string
		if want != "" && got.Exists() {
			msg = fmt.Sprintf("must be %s, got %s", want, literal(got))
		} else {
			format, args := g.errs[0].Msg()
			msg = fmt.Sprintf(format, args...)
		}
		ps = append(ps, diag.Problem{Pos: inputPos(g.errs[0], doc, key), Path: pathString(g.path), Message: msg})
	}
	return ps
}

// inputPos prefers the position CUE recorded for the offending value in the
// user's file (the value itself, not its key).
func inputPos(e cueerrors.Error, doc cue.Value, path string) token.Position {
	key := positionOf(doc, path)
	for _, ip := range e.InputPositions() {
		p := ip.Position()
		if p.Filename == key.Filename && p.Line == key.Line && p.Column >= key.Column {
			return p
		}
	}
	return key
}

// expectation describes what the schema accepts at v, in words.
func expectation(v cue.Value) string {
	if !v.Exists() {
		return ""
	}
	if s := schema.Expectation(v); s != "" {
		return s
	}
	if op, args := v.Expr(); op == cue.OrOp {
		var alts []string
		for _, a := range args {
			if !a.IsConcrete() {
				if s := expectation(a); s != "" {
					alts = append(alts, s)
				}
				continue
			}
			alts = append(alts, literal(a))
		}
		return orList(alts)
	}
	if v.IsConcrete() {
		return literal(v)
	}
	switch v.IncompleteKind() {
	case cue.StringKind:
		return "a string"
	case cue.StructKind:
		return "a mapping"
	case cue.ListKind:
		return "a list"
	case cue.BoolKind:
		return "true or false"
	case cue.IntKind, cue.NumberKind:
		return "a number"
	}
	return ""
}

func orList(alts []string) string {
	switch len(alts) {
	case 0:
		return ""
	case 1:
		return alts[0]
	case 2:
		return alts[0] + " or " + alts[1]
	}
	return "one of " + strings.Join(alts[:len(alts)-1], ", ") + " or " + alts[len(alts)-1]
}

// literal prints a value the way the user would write it.
func literal(v cue.Value) string {
	switch v.IncompleteKind() {
	case cue.StructKind:
		return "a mapping"
	case cue.ListKind:
		n, _ := v.Len().Int64()
		if n == 0 {
			return "an empty list"
		}
		return "a list"
	case cue.NullKind:
		return "null (an empty value)"
	case cue.StringKind:
		if s, err := v.String(); err == nil {
			return diag.Quote(s)
		}
	}
	return fmt.Sprint(v)
}

var yamlErr = regexp.MustCompile(`^(?:yaml: )?(?:line (\d+): )?(.*?)$`)

// yamlProblems positions a YAML syntax error. The YAML decoder reports
// "file:line: message" as plain text, so the line is recovered from it.
func yamlProblems(filename string, err error) diag.Problems {
	var ps diag.Problems
	for _, line := range strings.Split(strings.TrimSpace(err.Error()), "\n") {
		pos := token.Position{Filename: filename, Line: 1, Column: 1}
		msg := strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(msg, filename+":"); ok {
			num, tail, _ := strings.Cut(rest, ":")
			if n, err := strconv.Atoi(num); err == nil {
				pos.Line, msg = n, strings.TrimSpace(tail)
			}
		}
		if m := yamlErr.FindStringSubmatch(msg); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil {
				pos.Line = n
			}
			msg = m[2]
		}
		ps = append(ps, diag.Problem{Pos: pos, Message: "invalid YAML: " + msg})
	}
	return ps
}

// fromCUE wraps CUE errors that have no better wording (YAML syntax errors).
func fromCUE(err error, fallbackFile string) diag.Problems {
	var ps diag.Problems
	for _, e := range cueerrors.Errors(err) {
		pos := e.Position().Position()
		if pos.Filename == "" || pos.Filename == schema.Filename {
			for _, ip := range e.InputPositions() {
				if p := ip.Position(); p.Filename != schema.Filename && p.Filename != "" {
					pos = p
					break
				}
			}
		}
		if pos.Filename == "" {
			pos.Filename = fallbackFile
		}
		format, args := e.Msg()
		path := pathString(dataPath(e.Path()))
		ps = append(ps, diag.Problem{Pos: pos, Path: path, Message: fmt.Sprintf(format, args...)})
	}
	if len(ps) == 0 {
		ps = diag.Problems{{Pos: token.Position{Filename: fallbackFile}, Message: err.Error()}}
	}
	ps.Sort()
	return ps
}

// dataPath drops the schema's definition name from an error path.
func dataPath(sels []string) cue.Path {
	if len(sels) > 0 && strings.HasPrefix(sels[0], "#") {
		sels = sels[1:]
	}
	out := make([]cue.Selector, len(sels))
	for i, s := range sels {
		var n int
		if _, err := fmt.Sscanf(s, "%d", &n); err == nil && fmt.Sprint(n) == s {
			out[i] = cue.Index(n)
		} else {
			out[i] = cue.Str(s)
		}
	}
	return cue.MakePath(out...)
}

// schemaPath maps a path in the input to the schema: list indices become
// "any element" and fields are looked up whether optional or required.
func schemaPath(p cue.Path) cue.Path {
	sels := p.Selectors()
	out := make([]cue.Selector, len(sels))
	for i, s := range sels {
		if s.Type() == cue.IndexLabel {
			out[i] = cue.AnyIndex
		} else {
			out[i] = s.Optional()
		}
	}
	return cue.MakePath(out...)
}

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
