package mesh

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/token"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/schema"
)

// validate returns the errors unified.Validate(cue.Concrete(true),
// cue.All()) reports, at a cost linear in their number: CUE compares each
// new error with every earlier one, so 5000 clusters with a bad role each
// took seconds. A value's Err is the first error at or below it, so the
// walk descends only into values that have one and keeps the deepest.
// Incomplete values (a required field missing) are no error here; the
// caller validates a value without errors as a whole for those.
func validate(v cue.Value) []cueerrors.Error {
	var errs []cueerrors.Error
	validateInto(v, &errs)
	return errs
}

func validateInto(v cue.Value, errs *[]cueerrors.Error) {
	err := v.Err()
	if err == nil {
		return
	}
	n := len(*errs)
	// Fields iterates a struct's fields, or a list's elements, even when
	// they hold errors.
	if it, ferr := v.Fields(); ferr == nil {
		for it.Next() {
			validateInto(it.Value(), errs)
		}
	}
	if len(*errs) == n {
		*errs = append(*errs, cueerrors.Errors(err)...)
	}
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
