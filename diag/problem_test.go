package diag

import (
	"bytes"
	"testing"

	"cuelang.org/go/cue/token"
)

// TestOnePrinter: a problem reads the same in text and in JSON's message,
// its suggestion is data as well as words, and no problems are [] in JSON.
func TestOnePrinter(t *testing.T) {
	ps := Problems{{
		Pos: token.Position{Filename: "mesh.yaml", Line: 3, Column: 5}, Path: "spec.clusters[0].network", Rule: "MC003",
		Message: `network "n2" is not declared`, Suggestion: "n1",
	}, {
		Pos: token.Position{Filename: "out/PLAN.md"}, Message: "missing",
	}}
	var text, js bytes.Buffer
	if err := Print(&text, ps, "text"); err != nil {
		t.Fatal(err)
	}
	want := "mesh.yaml:3:5: spec.clusters[0].network: network \"n2\" is not declared; did you mean \"n1\"? [MC003]\nout/PLAN.md: missing\n"
	if text.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", text.String(), want)
	}
	if err := Print(&js, ps[:1], "json"); err != nil {
		t.Fatal(err)
	}
	wantJSON := `[
  {
    "file": "mesh.yaml",
    "line": 3,
    "column": 5,
    "path": "spec.clusters[0].network",
    "rule": "MC003",
    "message": "network \"n2\" is not declared; did you mean \"n1\"?",
    "suggestion": "n1"
  }
]
`
	if js.String() != wantJSON {
		t.Errorf("json:\n%s\nwant:\n%s", js.String(), wantJSON)
	}
	js.Reset()
	if err := Print(&js, nil, "json"); err != nil || js.String() != "[]\n" {
		t.Errorf("no problems: %q, %v", js.String(), err)
	}
	if err := Print(&js, ps, "yaml"); err == nil {
		t.Error("Print accepted format yaml")
	}
}
