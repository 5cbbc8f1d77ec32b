package compiler_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/diagram"
	"meshc.dev/meshc/render"
)

// diagramContexts are contexts the schema accepts that mean something to
// the languages of the picture: Mermaid entities and directives, HTML
// entities and tags (Mermaid labels are HTML), Graphviz escapes, quotes.
var diagramContexts = []string{
	`#quot;x`, `a&lt;b&gt;`, `%%{init:{'theme':'forest'}}%%`, `a\nb`, "`x`",
	`<br/>y`, `#35;z`, `"q"`, `&amp;`, `b<b>c</b>`, `\N\G\l`, `x#9829;`,
}

// TestDiagramTextRoundTrips renders a mesh whose contexts are
// diagramContexts and reads every cluster's picture back as each language
// reads it: Mermaid in PLAN.md (entities decoded, then HTML), DOT (Graphviz
// escapes) and mesh.svg (XML). Each must show "context " and the context,
// exactly; the Mermaid labels hold no character Mermaid or HTML would read.
func TestDiagramTextRoundTrips(t *testing.T) {
	// Six clusters to a mesh: the picture draws up to seven primaries.
	for chunk := range slices.Chunk(diagramContexts, 6) {
		testDiagramText(t, chunk)
	}
}

func testDiagramText(t *testing.T, contexts []string) {
	var b strings.Builder
	for i, ctx := range contexts {
		fmt.Fprintf(&b, "    - {name: c%d, network: network1, role: primary, context: %s}\n", i, strconv.Quote(ctx))
	}
	in := strings.Replace(meshWith("", ""), "    - name: cluster1\n      network: network1\n      role: primary\n", b.String(), 1)
	m, out, err := compiler.Compile("mesh.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{} // the lines of each cluster's box
	for i, ctx := range contexts {
		want[fmt.Sprintf("c%d", i)] = []string{"context " + ctx}
	}

	t.Run("mermaid", func(t *testing.T) {
		plan := string(out.Lookup(render.PlanFile).Data)
		_, block, _ := strings.Cut(plan, "```mermaid\n")
		block, _, _ = strings.Cut(block, "```")
		if strings.Contains(block, "%%{") {
			t.Errorf("the Mermaid block holds a directive:\n%s", block)
		}
		got := map[string][]string{}
		for _, m := range mermaidNode.FindAllStringSubmatch(block, -1) {
			raw := strings.NewReplacer("<br/>", "\n", "<b>", "", "</b>", "").Replace(m[1])
			if i := strings.IndexAny(raw, "\"<>&%\\`"); i >= 0 {
				t.Errorf("label %q holds %q, which Mermaid or HTML reads", m[1], raw[i])
			}
			lines := strings.Split(mermaidDecode(raw), "\n")
			got[lines[0]] = lines[1:]
		}
		checkBoxes(t, got, want)
	})
	t.Run("dot", func(t *testing.T) {
		got := map[string][]string{}
		for _, m := range dotNode.FindAllStringSubmatch(diagram.DOT(render.Diagram(m)), -1) {
			lines, err := dotDecode(m[1])
			if err != nil {
				t.Errorf("label %s: %v", m[1], err)
				continue
			}
			got[lines[0]] = lines[1:]
		}
		checkBoxes(t, got, want)
	})
	t.Run("svg", func(t *testing.T) {
		texts, err := svgTexts(out.Lookup(render.DiagramFile).Data)
		if err != nil {
			t.Fatal(err)
		}
		for c, lines := range want {
			for _, l := range lines {
				if !slices.ContainsFunc(texts, func(s string) bool {
					head, tail, cut := strings.Cut(s, "…")
					return s == l || cut && len(l) > len(head)+len(tail) && strings.HasPrefix(l, head) && strings.HasSuffix(l, tail)
				}) {
					t.Errorf("cluster %s: no text of mesh.svg reads %q", c, l)
				}
			}
		}
	})
}

var (
	mermaidNode = regexp.MustCompile(`(?m)^    n\d+\["(.*)"\]$`)
	dotNode     = regexp.MustCompile(`(?m)^    n\d+ \[label=("(?:[^"\\]|\\.)*")`)
	mermaidEnt  = regexp.MustCompile(`#([a-zA-Z]+|[0-9]+);`)
)

// mermaidDecode reads a label as Mermaid does: #name; and #123; become
// HTML entities, and the label is HTML.
func mermaidDecode(s string) string {
	s = mermaidEnt.ReplaceAllStringFunc(s, func(e string) string {
		if e[1] >= '0' && e[1] <= '9' {
			return "&#" + e[1:]
		}
		return "&" + e[1:]
	})
	return html.UnescapeString(s)
}

// dotDecode reads a quoted Graphviz label: \" and \\ are the characters,
// \n, \l and \r end lines; any other escape means something (\N is the
// node's name) and is an error here.
func dotDecode(q string) ([]string, error) {
	q = q[1 : len(q)-1]
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		switch q[i] {
		case '"', '\\':
			b.WriteByte(q[i])
		case 'n', 'l', 'r':
			b.WriteByte('\n')
		default:
			return nil, fmt.Errorf("escape \\%c means something to Graphviz", q[i])
		}
	}
	return strings.Split(b.String(), "\n"), nil
}

// svgTexts is the text of every element of an SVG document.
func svgTexts(data []byte) ([]string, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	var out []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if cd, ok := tok.(xml.CharData); ok && strings.TrimSpace(string(cd)) != "" {
			out = append(out, string(cd))
		}
	}
}

// checkBoxes requires each cluster's box (first line: its name) to hold
// the lines wanted.
func checkBoxes(t *testing.T, got, want map[string][]string) {
	t.Helper()
	for c, lines := range want {
		box, ok := got[c]
		if !ok {
			t.Errorf("no box reads %s", c)
			continue
		}
		for _, l := range lines {
			if !slices.Contains(box, l) {
				t.Errorf("box %s reads %q, want a line %q", c, box, l)
			}
		}
	}
}
