package diag

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"cuelang.org/go/cue/token"
)

// Problem is one thing wrong with the input, anchored at the value at fault.
type Problem struct {
	// Pos is the file, line and column of the offending value.
	Pos token.Position
	// Path is the field path inside the document, as "spec.clusters[1].role".
	Path string
	// Rule is the stable ID of the cross-cluster rule that failed (for
	// example "MC003"); empty for schema problems.
	Rule string
	// Message says what is wrong and what is expected.
	Message string
	// Suggestion is, for a near miss (a typo in a name), the name the
	// input most likely meant; "" when none is close enough.
	Suggestion string
	// First is, for a repeated key, where the first one is in the input.
	// It is kept apart from Message because only the input's own text has
	// those lines: a kustomize function sees a re-serialised copy.
	First token.Position
}

// Text is the message as the user reads it next to the input: Advice, and
// where the first of a repeated key is.
func (p Problem) Text() string {
	if p.First.Line > 0 {
		return fmt.Sprintf("%s (first at line %d)", p.Advice(), p.First.Line)
	}
	return p.Advice()
}

// Advice is Message and the suggestion, without positions: what a report
// that carries the position apart (a KRM function's result) says.
func (p Problem) Advice() string {
	if p.Suggestion != "" {
		return fmt.Sprintf("%s; did you mean %q?", p.Message, p.Suggestion)
	}
	return p.Message
}

// Suggested is a near miss a check passes as the last argument of its
// report (rules.Rule's check): the suggestion as data, not words.
type Suggested string

// String formats the problem the way compilers do: file:line:col: message.
func (p Problem) String() string {
	var b strings.Builder
	if p.Pos.Filename != "" {
		b.WriteString(p.Pos.Filename)
		if p.Pos.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", p.Pos.Line, p.Pos.Column)
		}
		b.WriteString(": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Text())
	if p.Rule != "" {
		fmt.Fprintf(&b, " [%s]", p.Rule)
	}
	return b.String()
}

// Problems is every problem found in one input. It is an error so the
// pipeline can return it, and it keeps them all so users fix them in one go.
type Problems []Problem

// Error lists every problem, one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Sort orders problems as they appear in the input, then by path, so output
// is stable and reads top to bottom.
func (ps Problems) Sort() {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(
			cmp.Compare(a.Pos.Filename, b.Pos.Filename),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Column, b.Pos.Column),
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Message, b.Message),
		)
	})
}

// Err returns ps as an error, or nil when there are none.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}
