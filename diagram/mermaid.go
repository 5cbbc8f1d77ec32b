package diagram

import (
	"fmt"
	"strings"
)

// Mermaid writes the graph as a Mermaid flowchart, which GitHub and GitLab
// draw where it sits in a Markdown file: networks are subgraphs, the root
// of trust points into each of them once. Notes become %% comments, so the
// text form carries them too; PLAN.md also prints them under the picture.
func Mermaid(g *Graph) string {
	var b strings.Builder
	b.Grow(512 + 120*len(g.Nodes) + 60*len(g.Edges))
	b.WriteString("flowchart TB\n")
	for _, n := range g.Notes {
		fmt.Fprintf(&b, "  %%%% %s\n", strings.ReplaceAll(n, "\n", " "))
	}
	ids := make(map[string]string, len(g.Nodes))
	for i := range g.Nodes {
		ids[g.Nodes[i].ID] = fmt.Sprintf("n%d", i+1)
	}
	if g.Root != "" {
		fmt.Fprintf(&b, "  root([%s])\n", mq(g.Root))
	}
	nets := networkOrder(g)
	for i, net := range nets {
		fmt.Fprintf(&b, "  subgraph net%d[%s]\n    direction TB\n", i+1, mq(net))
		for j := range g.Nodes {
			n := &g.Nodes[j]
			if n.Network != net {
				continue
			}
			lines := n.lines()
			lines[0] = "<b>" + mesc(lines[0]) + "</b>"
			for k := 1; k < len(lines); k++ {
				lines[k] = mesc(lines[k])
			}
			fmt.Fprintf(&b, "    %s[\"%s\"]\n", ids[n.ID], strings.Join(lines, "<br/>"))
		}
		b.WriteString("  end\n")
	}
	if g.Root != "" {
		for i := range nets {
			fmt.Fprintf(&b, "  root -. %s .-> net%d\n", mq("signs intermediate CA"), i+1)
		}
	}
	for _, e := range g.Edges {
		from, to := ids[e.From], ids[e.To]
		if from == "" || to == "" {
			continue
		}
		switch {
		case e.Kind == Serves:
			fmt.Fprintf(&b, "  %s -- %s --> %s\n", from, mq(e.Label), to)
		case e.Both:
			fmt.Fprintf(&b, "  %s <-. %s .-> %s\n", from, mq(e.Label), to)
		default:
			fmt.Fprintf(&b, "  %s -. %s .-> %s\n", from, mq(e.Label), to)
		}
	}
	b.WriteString("  classDef primary fill:#e8f0fe,stroke:#1a73e8\n")
	b.WriteString("  classDef remote fill:#ffffff,stroke:#5f6368\n")
	b.WriteString("  classDef root fill:#fef7e0,stroke:#b08800\n")
	var primaries, remotes []string
	for i := range g.Nodes {
		if rank(g.Nodes[i].Kind) == 0 {
			primaries = append(primaries, ids[g.Nodes[i].ID])
		} else {
			remotes = append(remotes, ids[g.Nodes[i].ID])
		}
	}
	if len(primaries) > 0 {
		fmt.Fprintf(&b, "  class %s primary\n", strings.Join(primaries, ","))
	}
	if len(remotes) > 0 {
		fmt.Fprintf(&b, "  class %s remote\n", strings.Join(remotes, ","))
	}
	if g.Root != "" {
		b.WriteString("  class root root\n")
	}
	return b.String()
}

// networkOrder is the declared networks, then any a node names that was not
// declared, in order of appearance.
func networkOrder(g *Graph) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range g.Networks {
		if !seen[n.ID] {
			seen[n.ID] = true
			out = append(out, n.ID)
		}
	}
	for i := range g.Nodes {
		if n := g.Nodes[i].Network; !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// mesc escapes text for inside a quoted Mermaid label, as Mermaid entity
// codes (#35; for '#'): a quote ends the label; Mermaid turns #name; into
// an entity and the label is HTML, where < starts a tag and & an entity;
// %% starts a directive that can reconfigure the diagram; a backslash
// escapes and a backtick starts Markdown. One pass, so the '#' of an
// entity it writes is never escaped again.
func mesc(s string) string { return mermaidEscaper.Replace(s) }

var mermaidEscaper = strings.NewReplacer("#", "#35;", `"`, "#quot;", "<", "#lt;", ">", "#gt;", "&", "#amp;",
	"%", "#37;", `\`, "#92;", "`", "#96;")

// mq is s as a quoted Mermaid label.
func mq(s string) string { return `"` + mesc(s) + `"` }
