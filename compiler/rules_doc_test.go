package compiler_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"meshc.dev/meshc/compiler"
)

const rulesDoc = "../docs/rules.md"

// TestRulesDoc keeps docs/rules.md generated from compiler.Rules,
// compiler.Guarantees and the negative test table, so the catalogue cannot
// drift from the code. MESHC_UPDATE=1 go test ./... regenerates it.
func TestRulesDoc(t *testing.T) {
	got := renderRulesDoc()
	if update {
		if err := os.WriteFile(rulesDoc, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(rulesDoc)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s is stale (-committed +generated); run MESHC_UPDATE=1 go test ./... and review the diff:\n%s", rulesDoc, diff)
	}
}

func renderRulesDoc() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("<!-- Generated from compiler.Rules and compiler.Guarantees by TestRulesDoc (compiler/rules_doc_test.go). Do not edit; run MESHC_UPDATE=1 go test ./... -->\n\n")
	p("# meshc rule catalogue\n\n")
	p("meshc checks a Mesh file in two stages. First the input itself: YAML syntax, exactly one document, no duplicate keys,\n")
	p("size and nesting bounds, then the schema ([schema/mesh.cue](../schema/mesh.cue)): unknown fields with a suggestion,\n")
	p("missing fields, DNS-1123 names, the Istio versions meshc targets, addresses that are neither an IP nor a hostname.\n")
	p("Those problems carry no ID. Once the file matches the schema, the cross-cluster rules below run. Each has a stable\n")
	p("ID, printed at the end of its message (`[MC003]`) and in the `rule` field of `meshc vet --format json`.\n\n")
	p("Istio can check most of these only against live clusters (`istioctl analyze`, or symptoms at runtime); meshc checks\n")
	p("them before anything is installed.\n\n")
	p("| ID | name | protects against |\n| --- | --- | --- |\n")
	for _, r := range compiler.Rules {
		p("| [%s](#%s) | %s | %s |\n", r.ID, strings.ToLower(r.ID+"-"+r.Name), r.Name, md(r.Protects))
	}
	for _, r := range compiler.Rules {
		p("\n## %s %s\n\n", r.ID, r.Name)
		p("**Protects against:** %s\n\n", md(r.Protects))
		p("**Istio symptom without it:** %s\n", md(r.Symptom))
		if file, line := ruleExample(r.ID); file != "" {
			p("\nExample, for [compiler/testdata/invalid/%s](../compiler/testdata/invalid/%s):\n\n```\n%s\n```\n", file, file, line)
		}
	}
	p("\n## Guaranteed by construction\n\n")
	p("Some mistakes of hand-written multicluster manifests need no rule: the Mesh file has one place for the value and\n")
	p("every rendered file takes it from there, so meshc's output cannot disagree with itself. `TestGuarantees` checks\n")
	p("each of these on every rendered example.\n\n")
	p("| mistake | Istio symptom | why meshc output cannot have it |\n| --- | --- | --- |\n")
	for _, g := range compiler.Guarantees {
		p("| %s | %s | %s |\n", md(g.Mistake), md(g.Symptom), md(g.How))
	}
	return b.String()
}

// ruleExample finds the first message of rule id in the negative test table.
func ruleExample(id string) (file, line string) {
	files := make([]string, 0, len(invalid))
	for f := range invalid {
		files = append(files, f)
	}
	slices.Sort(files)
	for _, f := range files {
		for _, l := range invalid[f] {
			if strings.HasSuffix(l, "["+id+"]") {
				return f, l
			}
		}
	}
	return "", ""
}

// md escapes the characters Markdown would take for HTML or table syntax.
var md = strings.NewReplacer("<", "&lt;", ">", "&gt;", "|", "\\|").Replace
