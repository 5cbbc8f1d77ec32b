package diag

import (
	"encoding/json"
	"fmt"
	"io"
)

// jsonProblem is the JSON shape of a Problem. Its field names are part of
// meshc's interface (`meshc vet --format json`, `render --check` and `certs
// --check` with --format json, editor and CI integrations): add fields,
// never rename or remove them.
type jsonProblem struct {
	File       string `json:"file"`
	Line       int    `json:"line"`
	Column     int    `json:"column"`
	Path       string `json:"path"`
	Rule       string `json:"rule"`
	Message    string `json:"message"`
	Suggestion string `json:"suggestion"`
}

// MarshalJSON encodes the problem as
//
//	{"file": "mesh.yaml", "line": 14, "column": 7, "path": "spec.clusters[0].network",
//	 "rule": "MC003", "message": "network \"network3\" is not declared ...; did you mean \"network2\"?",
//	 "suggestion": "network2"}
//
// Every field is always present so consumers need no presence checks: line
// and column are 1-based (0 when unknown), path is "" for problems with the
// file as a whole, rule is "" for schema and YAML problems, message is the
// text as printed, without the rule suffix, and suggestion is "" when
// nothing in the input is close enough to the name at fault.
func (p Problem) MarshalJSON() ([]byte, error) {
	return json.Marshal(jsonProblem{
		File:       p.Pos.Filename,
		Line:       p.Pos.Line,
		Column:     p.Pos.Column,
		Path:       p.Path,
		Rule:       p.Rule,
		Message:    p.Text(),
		Suggestion: p.Suggestion,
	})
}

// Formats are the forms Print writes problems in: the --format values of
// vet, render --check and certs --check.
var Formats = []string{"text", "json"}

// Print writes ps to w in format: text, one problem a line as String gives
// it; json, an indented array (empty, never null) whose messages read as
// in text.
func Print(w io.Writer, ps Problems, format string) error {
	switch format {
	case "text":
		for _, p := range ps {
			if _, err := fmt.Fprintln(w, p.String()); err != nil {
				return err
			}
		}
		return nil
	case "json":
		if ps == nil {
			ps = Problems{}
		}
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(ps)
	}
	return fmt.Errorf("unknown format %q (want text or json)", format)
}
