// Command gendocs writes the files meshc generates from its own code:
// docs/rules.md (from rules.Rules, rules.Guarantees and the invalid
// cases), schema/mesh.schema.json and docs/input.md (from schema/mesh.cue), and
// the version table of docs/helm.md (from mesh.IstioChanges) and the file
// table of docs/output.md (from render.Catalogue). Run it with
// go generate ./... from anywhere in the module; TestGeneratedFilesFresh
// fails when a committed copy is stale.
package main

//go:generate go run .

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"meshc.dev/meshc/internal/cases"
	"meshc.dev/meshc/rules"
	"meshc.dev/meshc/schema"
)

// generated is every file gendocs writes, by path from the module root.
var generated = map[string]func(root string) ([]byte, error){
	"docs/rules.md": func(root string) ([]byte, error) {
		invalid, err := cases.ReadDir(filepath.Join(root, "compiler/testdata/invalid"))
		if err != nil {
			return nil, err
		}
		return rulesDoc(invalid), nil
	},
	"schema/mesh.schema.json": func(string) ([]byte, error) { return schema.JSONSchema() },
	"docs/input.md":           inputDoc,
	"docs/helm.md":            helmDoc,
	"docs/output.md":          outputDoc,
}

func main() {
	root, err := moduleRoot()
	if err == nil {
		for name, gen := range generated {
			var data []byte
			if data, err = gen(root); err != nil {
				break
			}
			if err = os.WriteFile(filepath.Join(root, name), data, 0o644); err != nil {
				break
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

// moduleRoot walks up from the working directory to the go.mod of meshc.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(data), "module meshc.dev/meshc\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no meshc go.mod above the working directory")
		}
		dir = parent
	}
}

// rulesDoc is docs/rules.md: the rule catalogue from rules.Rules, an
// example message per rule from the invalid cases, and rules.Guarantees.
func rulesDoc(invalid []*cases.Case) []byte {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("<!-- Generated from rules.Rules and rules.Guarantees by internal/cmd/gendocs. Do not edit; run go generate ./... (or MESHC_UPDATE=1 go test ./...) -->\n\n")
	p("# meshc rule catalogue\n\n")
	p("meshc checks a Mesh file in two stages. First the input itself: YAML syntax, exactly one document, no duplicate keys,\n")
	p("size and nesting bounds, then the schema ([schema/mesh.cue](../schema/mesh.cue)): unknown fields with a suggestion,\n")
	p("missing fields, DNS-1123 names, the Istio versions meshc targets, addresses that are neither an IP nor a hostname.\n")
	p("Those problems carry no ID. Once the file matches the schema, the cross-cluster rules below run. Each has a stable\n")
	p("ID, printed at the end of its message (`[MC003]`) and in the `rule` field of `meshc vet --format json`.\n\n")
	p("Istio can check most of these only against live clusters (`istioctl analyze`, or symptoms at runtime); meshc checks\n")
	p("them before anything is installed.\n\n")
	p("The mesh a change plan starts from (`meshc plan --from INSTALLED`) is what runs, and it may predate a rule or be what\n")
	p("the change fixes. Rules marked *runtime* below guard what Istio does with the rendered output, not what meshc needs\n")
	p("to render and compare it: there they are warnings, and the plan starts from the mesh as it is. Every other rule\n")
	p("still refuses it. The new mesh passes them all.\n\n")
	p("| ID | name | protects against |\n| --- | --- | --- |\n")
	for _, r := range rules.Rules {
		protects := md(r.Protects)
		if r.Retired != "" {
			protects = "retired: " + protects
		}
		if r.Runtime {
			protects = "*runtime:* " + protects
		}
		p("| [%s](#%s) | %s | %s |\n", r.ID, strings.ToLower(r.ID+"-"+r.Name), r.Name, protects)
	}
	for _, r := range rules.Rules {
		p("\n## %s %s\n\n", r.ID, r.Name)
		if r.Retired != "" {
			p("**Retired**, and its ID is never given to another rule: %s\n\n", md(r.Retired))
			p("**Protected against:** %s\n\n", md(r.Protects))
			p("**Istio symptom it named:** %s\n", md(r.Symptom))
			continue
		}
		p("**Protects against:** %s\n\n", md(r.Protects))
		p("**Istio symptom without it:** %s\n", md(r.Symptom))
		if r.Runtime {
			p("\n**Runtime:** an installed mesh that breaks it can still start a change plan; `meshc plan --from` warns.\n")
		}
		if file, line := ruleExample(invalid, r.ID); file != "" {
			p("\nExample, for [compiler/testdata/invalid/%s](../compiler/testdata/invalid/%s):\n\n```\n%s\n```\n", file, file, line)
		}
	}
	p("\n## Guaranteed by construction\n\n")
	p("Some mistakes of hand-written multicluster manifests need no rule: the Mesh file has one place for the value and\n")
	p("every rendered file takes it from there, so meshc's output cannot disagree with itself. `TestGuarantees` checks\n")
	p("each of these on every rendered example.\n\n")
	p("| mistake | Istio symptom | why meshc output cannot have it |\n| --- | --- | --- |\n")
	for _, g := range rules.Guarantees {
		p("| %s | %s | %s |\n", md(g.Mistake), md(g.Symptom), md(g.How))
	}
	return []byte(b.String())
}

// ruleExample finds the first message of rule id in the invalid cases.
func ruleExample(invalid []*cases.Case, id string) (file, line string) {
	for _, c := range invalid {
		for _, l := range c.WantLines() {
			if strings.HasSuffix(l, "["+id+"]") {
				return filepath.Base(c.Path), l
			}
		}
	}
	return "", ""
}

// md escapes the characters Markdown would take for HTML or table syntax.
var md = strings.NewReplacer("<", "&lt;", ">", "&gt;", "|", "\\|").Replace
