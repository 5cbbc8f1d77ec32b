package diagram

import (
	"fmt"
	"strconv"
	"strings"
)

// DOT writes the graph in Graphviz's language, for those who want their own
// Graphviz to lay it out (dot -Tpng): networks are clusters, the root of
// trust points into each network once.
func DOT(g *Graph) string {
	var b strings.Builder
	b.Grow(512 + 120*len(g.Nodes) + 60*len(g.Edges))
	label := g.Title
	if g.Subtitle != "" {
		label += "\n" + g.Subtitle
	}
	for _, n := range g.Notes {
		label += "\n" + n
	}
	fmt.Fprintf(&b, "digraph %s {\n", strconv.Quote(g.Title))
	fmt.Fprintf(&b, "  graph [label=%s, labelloc=t, fontname=\"Helvetica\", compound=true, newrank=true];\n", strconv.Quote(label))
	b.WriteString("  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", color=\"#5f6368\", fontname=\"Helvetica\", fontsize=11];\n")
	b.WriteString("  edge [fontname=\"Helvetica\", fontsize=9];\n")
	ids := make(map[string]string, len(g.Nodes))
	for i := range g.Nodes {
		ids[g.Nodes[i].ID] = fmt.Sprintf("n%d", i+1)
	}
	if g.Root != "" {
		fmt.Fprintf(&b, "  root [label=%s, fillcolor=\"#fef7e0\", color=\"#b08800\"];\n", strconv.Quote(g.Root))
	}
	// The root's edge into a network ends at its first node, clipped at the
	// network's border (lhead).
	type entry struct{ cluster, node string }
	first := map[string]entry{}
	for i, net := range networkOrder(g) {
		fmt.Fprintf(&b, "  subgraph cluster_%d {\n    label=%s;\n    style=\"rounded,filled\";\n    fillcolor=\"#f1f3f4\";\n    color=\"#dadce0\";\n", i+1, strconv.Quote(net))
		for j := range g.Nodes {
			n := &g.Nodes[j]
			if n.Network != net {
				continue
			}
			if _, ok := first[net]; !ok {
				first[net] = entry{fmt.Sprintf("cluster_%d", i+1), ids[n.ID]}
			}
			attrs := ""
			if rank(n.Kind) == 0 {
				attrs = `, fillcolor="#e8f0fe", color="#1a73e8"`
			}
			if n.Group() {
				attrs += ", peripheries=2"
			}
			fmt.Fprintf(&b, "    %s [label=%s%s];\n", ids[n.ID], strconv.Quote(strings.Join(n.lines(), "\n")), attrs)
		}
		b.WriteString("  }\n")
	}
	if g.Root != "" {
		for _, net := range networkOrder(g) {
			if f, ok := first[net]; ok {
				fmt.Fprintf(&b, "  root -> %s [lhead=%s, style=dashed, color=\"#b08800\", label=\"signs intermediate CA\"];\n", f.node, f.cluster)
			}
		}
	}
	for _, e := range g.Edges {
		from, to := ids[e.From], ids[e.To]
		if from == "" || to == "" {
			continue
		}
		attrs := `color="#1a73e8"`
		if e.Kind == Reads {
			attrs = `color="#e8710a", style=dashed`
		}
		if e.Both {
			attrs += ", dir=both"
		}
		fmt.Fprintf(&b, "  %s -> %s [label=%s, %s];\n", from, to, strconv.Quote(e.Label), attrs)
	}
	b.WriteString("}\n")
	return b.String()
}
