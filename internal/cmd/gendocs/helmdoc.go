package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/rules"
)

// The generated section of docs/helm.md lies between these lines; the rest
// of the document is written by hand.
const (
	helmBegin = "<!-- BEGIN generated from mesh.IstioChanges by internal/cmd/gendocs; run go generate ./... (or MESHC_UPDATE=1 go test ./...) -->\n"
	helmEnd   = "<!-- END generated -->\n"
)

// helmDoc is docs/helm.md with its version table regenerated from
// mesh.IstioChanges and rules.Rules.
func helmDoc(root string) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(root, "docs/helm.md"))
	if err != nil {
		return nil, err
	}
	doc := string(data)
	i, j := strings.Index(doc, helmBegin), strings.Index(doc, helmEnd)
	if i < 0 || j < i {
		return nil, fmt.Errorf("docs/helm.md has no generated section (%q … %q)", helmBegin, helmEnd)
	}
	return []byte(doc[:i+len(helmBegin)] + versionTable() + doc[j:]), nil
}

func versionTable() string {
	var b strings.Builder
	b.WriteString("| Istio | what changed | what meshc does | rule |\n| --- | --- | --- | --- |\n")
	for _, c := range mesh.IstioChanges {
		rule := "—"
		for _, r := range rules.Rules {
			if r.ID == c.Rule {
				rule = fmt.Sprintf("[%s](rules.md#%s)", r.ID, strings.ToLower(r.ID+"-"+r.Name))
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", c.Releases(), md(c.What), md(c.Meshc), rule)
	}
	return b.String()
}
