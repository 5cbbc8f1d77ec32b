package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"meshc.dev/meshc/render"
)

// The generated section of docs/output.md lies between these lines; the
// rest of the document is written by hand.
const (
	outputBegin = "<!-- BEGIN generated from render.Catalogue by internal/cmd/gendocs; run go generate ./... (or MESHC_UPDATE=1 go test ./...) -->\n"
	outputEnd   = "<!-- END generated -->\n"
)

// outputDoc is docs/output.md with its file table regenerated from
// render.Catalogue: every file meshc writes, one line per path.
func outputDoc(root string) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(root, "docs/output.md"))
	if err != nil {
		return nil, err
	}
	doc := string(data)
	i, j := strings.Index(doc, outputBegin), strings.Index(doc, outputEnd)
	if i < 0 || j < i {
		return nil, fmt.Errorf("docs/output.md has no generated section (%q … %q)", outputBegin, outputEnd)
	}
	return []byte(doc[:i+len(outputBegin)] + fileTable() + doc[j:]), nil
}

// fileTable lists the catalogue, rows of one path merged: who gets the
// file joins each row's words, what it holds is the first row's.
func fileTable() string {
	type line struct{ scope, when, about string }
	var order []string
	lines := map[string]*line{}
	for _, a := range render.Catalogue {
		p := a.Pattern()
		if l, ok := lines[p]; ok {
			l.when += "; " + a.When
			continue
		}
		order = append(order, p)
		lines[p] = &line{a.Scope.String(), a.When, a.About}
	}
	var b strings.Builder
	b.WriteString("| file | one per | who gets it | what it holds |\n| --- | --- | --- | --- |\n")
	for _, p := range order {
		l := lines[p]
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", p, l.scope, md(l.when), md(l.about))
	}
	return b.String()
}
