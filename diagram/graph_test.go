package diagram_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"meshc.dev/meshc/diagram"
)

// star is a graph of primaries, each serving remotes on given networks.
func star(primaries int, remotes map[string]int) *diagram.Graph {
	g := &diagram.Graph{Networks: []diagram.Network{{ID: "net1"}, {ID: "net2"}}}
	for p := range primaries {
		id := fmt.Sprintf("p%d", p)
		g.Nodes = append(g.Nodes, diagram.Node{ID: id, Network: "net1", Kind: diagram.Primary, Label: id, Gateway: "east-west gateway"})
		g.ReadAll = append(g.ReadAll, id)
	}
	for _, net := range []string{"net1", "net2"} {
		for r := range remotes[net] {
			id := fmt.Sprintf("r-%s-%d", net, r)
			g.Nodes = append(g.Nodes, diagram.Node{ID: id, Network: net, Kind: diagram.Remote, Label: id, Details: []string{"remote of p0"}})
			g.Edges = append(g.Edges, diagram.Edge{From: "p0", To: id, Kind: diagram.Serves, Label: "istiod"})
		}
	}
	return g
}

func kinds(g *diagram.Graph) (serves, reads int) {
	for _, e := range g.Edges {
		if e.Kind == diagram.Serves {
			serves++
		} else {
			reads++
		}
	}
	return serves, reads
}

// Two primaries reading each other are one line with two heads; a primary
// reading the remote it serves adds no line, only words on the serve edge.
func TestSimplifyReadsSmall(t *testing.T) {
	g := star(2, map[string]int{"net2": 1}).Simplify(diagram.DefaultLimits)
	want := []diagram.Edge{
		{From: "p0", To: "r-net2-0", Kind: diagram.Serves, Label: "istiod · reads API server"},
		{From: "p0", To: "p1", Kind: diagram.Reads, Label: "reads API server", Both: true},
		{From: "p1", To: "r-net2-0", Kind: diagram.Reads, Label: "reads API server"},
	}
	if diff := cmp.Diff(want, g.Edges); diff != "" {
		t.Errorf("edges (-want +got):\n%s", diff)
	}
	if len(g.Notes) != 0 {
		t.Errorf("notes %q, want none when every read is drawn", g.Notes)
	}
}

// A multi-primary mesh of 100 draws no read lines at all (not 4950 or
// 9900): the rule is said once, with the number of remote secrets.
func TestSimplifyReadsManyIsOneNote(t *testing.T) {
	g := star(100, nil).Simplify(diagram.DefaultLimits)
	if _, reads := kinds(g); reads != 0 {
		t.Errorf("%d read edges drawn, want 0", reads)
	}
	if len(g.Notes) != 1 || !strings.Contains(g.Notes[0], "each of the 100 primaries reads every other cluster's API server (9900 remote secrets)") {
		t.Errorf("notes %q, want one saying each of the 100 primaries reads every other cluster", g.Notes)
	}
}

// A primary's remotes past the limit on one network become one node with a
// count and one edge; on another network, under the limit, they stay.
func TestSimplifyCollapsesRemotes(t *testing.T) {
	g := star(1, map[string]int{"net1": 5, "net2": 2}).Simplify(diagram.DefaultLimits)
	var labels []string
	for _, n := range g.Nodes {
		labels = append(labels, fmt.Sprintf("%s %s %d", n.Network, n.Label, n.Count))
	}
	want := []string{"net1 p0 0", "net1 5 remotes 5", "net2 r-net2-0 0", "net2 r-net2-1 0"}
	if diff := cmp.Diff(want, labels); diff != "" {
		t.Fatalf("nodes (-want +got):\n%s", diff)
	}
	if got := g.Nodes[1].Details; !cmp.Equal(got, []string{"r-net1-0 … r-net1-4", "remote of p0"}) {
		t.Errorf("group details %q", got)
	}
	if serves, reads := kinds(g); serves != 3 || reads != 0 {
		t.Errorf("%d serve and %d read edges, want 3 and 0", serves, reads)
	}
}

// A network's primaries past the limit: those that serve remotes stay, the
// first others fill the limit, the rest are one node with a count.
func TestSimplifyCollapsesPrimaries(t *testing.T) {
	g := star(20, map[string]int{"net2": 1}).Simplify(diagram.DefaultLimits)
	var net1 []string
	for _, n := range g.Nodes {
		if n.Network == "net1" {
			net1 = append(net1, n.Label)
		}
	}
	want := []string{"p0", "p1", "p2", "p3", "p4", "p5", "p6", "13 more primaries"}
	if diff := cmp.Diff(want, net1); diff != "" {
		t.Errorf("net1 (-want +got):\n%s", diff)
	}
	if got := g.Nodes[7].Gateway; got != "east-west gateway in each" {
		t.Errorf("group gateway %q", got)
	}
}

// Simplify leaves its input alone: the same facts can be drawn twice.
func TestSimplifyDoesNotChangeInput(t *testing.T) {
	g := star(3, map[string]int{"net1": 4})
	before := fmt.Sprint(*g)
	g.Simplify(diagram.DefaultLimits)
	if after := fmt.Sprint(*g); after != before {
		t.Errorf("Simplify changed its input:\n%s\n%s", before, after)
	}
}

// An empty graph, or one whose edges name nodes it lacks, still draws: the
// renderers never panic on what Simplify hands them.
func TestDrawDegenerate(t *testing.T) {
	for name, g := range map[string]*diagram.Graph{
		"empty":       {},
		"no networks": {Nodes: []diagram.Node{{ID: "a", Network: "x", Label: "a"}}},
		"dangling":    {Nodes: []diagram.Node{{ID: "a", Network: "x", Label: "a"}}, Edges: []diagram.Edge{{From: "a", To: "b"}, {From: "c", To: "a", Kind: diagram.Reads}}},
	} {
		if svg := diagram.SVG(g); !strings.HasPrefix(string(svg), "<svg ") {
			t.Errorf("%s: SVG %q", name, svg)
		}
		if m := diagram.Mermaid(g); !strings.HasPrefix(m, "flowchart TB\n") {
			t.Errorf("%s: Mermaid %q", name, m)
		}
		if d := diagram.DOT(g); !strings.HasSuffix(d, "}\n") {
			t.Errorf("%s: DOT %q", name, d)
		}
	}
}
