package diag

import (
	"bytes"
	"strconv"
	"strings"
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

// TestQuoteHidesCredentials: a value that looks like a credential is never
// quoted in a message, and ordinary values are.
func TestQuoteHidesCredentials(t *testing.T) {
	for _, s := range []string{
		"https://root:hvs.SECRETTOKEN123@vault.example.com:8200",
		"https://user@vault.example.com",
		"pki/root/sign?token=abc",
		"https://x.example.com/p?a=1&password=hunter2",
		"hvs.CAESIJlU9JMYEhOPYv4",
		"s.AbCdEfGhIjKlMnOpQrStUvWx",
		"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
		// Built at run time: no key block is ever committed, not even a stub.
		"-----BEGIN PRIVATE" + " KEY-----\nMIIE",
	} {
		if got := Quote(s); strings.Contains(got, s) || !strings.Contains(got, "looks like a credential") {
			t.Errorf("Quote(%q) = %s", s, got)
		}
	}
	for _, s := range []string{"https://vault.example.com:8200", "pki/root/sign-intermediate", "istio-ca", "s.short", "http://vault.example.com:8200", "-----BEGIN CERTIFICATE-----\nMIID"} {
		if got := Quote(s); got != strconv.Quote(clip(s))+clipNote(s) {
			t.Errorf("Quote(%q) = %s, want it quoted", s, got)
		}
	}
}
