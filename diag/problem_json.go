package diag

import (
	"encoding/json"
)

// jsonProblem is the JSON shape of a Problem. Its field names are part of
// meshc's interface (`meshc vet --format json`, editor and CI integrations):
// add fields, never rename or remove them.
type jsonProblem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Path    string `json:"path"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// MarshalJSON encodes the problem as
//
//	{"file": "mesh.yaml", "line": 14, "column": 7, "path": "spec.clusters[0].network",
//	 "rule": "MC003", "message": "network \"network3\" is not declared ..."}
//
// Every field is always present so consumers need no presence checks: line
// and column are 1-based (0 when unknown), path is "" for problems with the
// file as a whole, rule is "" for schema and YAML problems, and message
// carries no rule suffix.
func (p Problem) MarshalJSON() ([]byte, error) {
	return json.Marshal(jsonProblem{
		File:    p.Pos.Filename,
		Line:    p.Pos.Line,
		Column:  p.Pos.Column,
		Path:    p.Path,
		Rule:    p.Rule,
		Message: p.Text(),
	})
}
