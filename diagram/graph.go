package diagram

import "fmt"

// Graph is what a picture shows. Nodes and edges keep the order they were
// added in, which is the order they are drawn in: the output depends on
// nothing else.
type Graph struct {
	Title    string
	Subtitle string
	// Root is the shared root of trust every cluster's intermediate CA is
	// signed by; drawn once, above the networks. "" draws none.
	Root     string
	Networks []Network
	Nodes    []Node
	Edges    []Edge
	// ReadAll lists the nodes whose istiod reads the API server of every
	// other node: every primary, in Istio's multicluster model. It is a
	// rule, not P×(N−1) edges; Simplify draws it as edges only when they
	// are few and otherwise states it once as a note.
	ReadAll []string
	// Notes are mesh-wide facts stated once, under the picture.
	Notes []string
}

// Network is a column of the picture: clusters whose pods reach each other
// directly.
type Network struct {
	ID string
}

// Kind says what a node stands for.
type Kind int

const (
	// Primary is a cluster running its own istiod.
	Primary Kind = iota
	// Remote is a cluster served by another cluster's istiod.
	Remote
	// Primaries and Remotes are collapsed groups: Count clusters of that
	// kind drawn as one node.
	Primaries
	Remotes
)

// Node is one box: a cluster, or a group of clusters past a threshold.
type Node struct {
	ID      string
	Network string
	Kind    Kind
	Label   string
	// Details are the lines under the label: role, istiod address, API
	// server.
	Details []string
	// Gateway describes the east-west gateway ("" when there is none).
	Gateway string
	// Count is how many clusters a group stands for; 0 for a cluster.
	Count int
}

// Group reports whether the node stands for several clusters.
func (n *Node) Group() bool { return n.Kind == Primaries || n.Kind == Remotes }

// EdgeKind says what an edge means.
type EdgeKind int

const (
	// Serves: From's istiod serves To (configuration, injection,
	// certificates).
	Serves EdgeKind = iota
	// Reads: From's istiod reads To's API server through a remote secret.
	Reads
)

// Edge is one relation drawn as a line.
type Edge struct {
	From, To string
	Kind     EdgeKind
	Label    string
	// Both: the relation holds in both directions (two primaries reading
	// each other), drawn as one line with two arrowheads.
	Both bool
}

// Limits are the thresholds past which Simplify summarizes instead of
// drawing.
type Limits struct {
	// Remotes is how many remotes of one primary on one network are drawn
	// one by one; more become one node with a count.
	Remotes int
	// Primaries is how many primaries of one network are drawn one by one;
	// the rest (those serving no remote) become one node with a count.
	Primaries int
	// ReadEdges is how many API-server reads are drawn as lines; past it
	// the rule is stated once.
	ReadEdges int
}

// DefaultLimits keep a 100-cluster mesh on one screen and a 3-cluster mesh
// fully drawn.
var DefaultLimits = Limits{Remotes: 3, Primaries: 8, ReadEdges: 6}

// Simplify returns the graph as it is drawn: ReadAll turned into a few Reads
// edges or one note, a primary's remotes past lim.Remotes collapsed per
// network, and a network's primaries past lim.Primaries collapsed. Its work
// is linear in the number of nodes and edges, whatever the mesh's shape.
func (g *Graph) Simplify(lim Limits) *Graph {
	out := *g
	out.Nodes = append([]Node(nil), g.Nodes...)
	out.Edges = append([]Edge(nil), g.Edges...)
	out.Notes = append([]string(nil), g.Notes...)
	out.ReadAll = nil
	out.expandReads(g.ReadAll, lim.ReadEdges)
	out.collapseRemotes(lim.Remotes)
	out.collapsePrimaries(lim.Primaries)
	return &out
}

// expandReads draws "every reader reads every other node" as edges when few
// enough, merging a read into the serve edge of the same pair and two
// readers reading each other into one line; otherwise it says so once.
func (g *Graph) expandReads(readers []string, limit int) {
	p, n := len(readers), len(g.Nodes)
	if p == 0 || n < 2 {
		return
	}
	isReader := make(map[string]bool, p)
	for _, r := range readers {
		isReader[r] = true
	}
	covered := 0
	for i := range g.Edges {
		e := &g.Edges[i]
		if e.Kind == Serves && isReader[e.From] {
			e.Label += " · reads API server"
			covered++
		}
	}
	total := p * (n - 1)
	// Readers read each other: one line per pair of readers.
	drawn := total - covered - p*(p-1)/2
	if drawn > limit {
		g.Notes = append(g.Notes, fmt.Sprintf("API servers: each of the %d primaries reads every other cluster's API server (%d remote secrets); said here once instead of drawn as %d lines.", p, total, drawn))
		return
	}
	served := map[[2]string]bool{}
	for _, e := range g.Edges {
		if e.Kind == Serves {
			served[[2]string{e.From, e.To}] = true
		}
	}
	pos := make(map[string]int, n)
	for i, nd := range g.Nodes {
		pos[nd.ID] = i
	}
	for _, r := range readers {
		for _, nd := range g.Nodes {
			switch {
			case nd.ID == r || served[[2]string{r, nd.ID}]:
			case isReader[nd.ID] && pos[nd.ID] < pos[r]:
				// Drawn from the other reader, with two heads.
			default:
				g.Edges = append(g.Edges, Edge{From: r, To: nd.ID, Kind: Reads, Label: "reads API server", Both: isReader[nd.ID]})
			}
		}
	}
}

// collapseRemotes replaces each primary's remotes on one network, when more
// than limit, by one node that says how many.
func (g *Graph) collapseRemotes(limit int) {
	type key struct{ from, network string }
	kinds := make(map[string]*Node, len(g.Nodes))
	for i := range g.Nodes {
		kinds[g.Nodes[i].ID] = &g.Nodes[i]
	}
	members := map[key][]string{}
	var order []key
	for _, e := range g.Edges {
		if to := kinds[e.To]; e.Kind == Serves && to != nil && to.Kind == Remote {
			k := key{e.From, to.Network}
			if members[k] == nil {
				order = append(order, k)
			}
			members[k] = append(members[k], e.To)
		}
	}
	groups := map[string]string{} // member -> group ID
	for _, k := range order {
		if len(members[k]) <= limit {
			continue
		}
		id := "remotes of " + k.from + " on " + k.network
		for _, m := range members[k] {
			groups[m] = id
		}
	}
	g.collapse(groups, func(id string, ms []*Node) Node {
		first := ms[0]
		return Node{ID: id, Network: first.Network, Kind: Remotes, Count: len(ms),
			Label:   fmt.Sprintf("%d remotes", len(ms)),
			Details: append(span(ms), first.Details[:min(1, len(first.Details))]...), Gateway: gateways(ms)}
	})
}

// collapsePrimaries keeps at most limit primaries of a network on the
// picture: those that serve remotes or take part in drawn edges always, then
// the first others in input order; the rest become one node.
func (g *Graph) collapsePrimaries(limit int) {
	linked := map[string]bool{}
	for _, e := range g.Edges {
		linked[e.From], linked[e.To] = true, true
	}
	count := map[string]int{}
	for _, nd := range g.Nodes {
		if nd.Kind == Primary {
			count[nd.Network]++
		}
	}
	kept := map[string]int{}
	for _, nd := range g.Nodes {
		if nd.Kind == Primary && linked[nd.ID] {
			kept[nd.Network]++
		}
	}
	groups := map[string]string{}
	for _, nd := range g.Nodes {
		if nd.Kind != Primary || linked[nd.ID] || count[nd.Network] <= limit {
			continue
		}
		// Room for limit−1 boxes and the group node.
		if kept[nd.Network] < limit-1 {
			kept[nd.Network]++
			continue
		}
		groups[nd.ID] = "more primaries on " + nd.Network
	}
	g.collapse(groups, func(id string, ms []*Node) Node {
		return Node{ID: id, Network: ms[0].Network, Kind: Primaries, Count: len(ms),
			Label:   fmt.Sprintf("%d more primaries", len(ms)),
			Details: span(ms), Gateway: gateways(ms)}
	})
}

// collapse replaces the nodes named in groups (node ID -> group ID) by one
// node per group, made by mk, at the place of the group's first member;
// edges are redirected to the group and duplicates dropped.
func (g *Graph) collapse(groups map[string]string, mk func(id string, members []*Node) Node) {
	if len(groups) == 0 {
		return
	}
	members := map[string][]*Node{}
	for i := range g.Nodes {
		if id, ok := groups[g.Nodes[i].ID]; ok {
			members[id] = append(members[id], &g.Nodes[i])
		}
	}
	nodes := make([]Node, 0, len(g.Nodes))
	for i := range g.Nodes {
		id, ok := groups[g.Nodes[i].ID]
		switch {
		case !ok:
			nodes = append(nodes, g.Nodes[i])
		case members[id][0] == &g.Nodes[i]:
			nodes = append(nodes, mk(id, members[id]))
		}
	}
	type ek struct {
		from, to string
		kind     EdgeKind
	}
	seen := map[ek]bool{}
	edges := g.Edges[:0]
	for _, e := range g.Edges {
		if id, ok := groups[e.From]; ok {
			e.From = id
		}
		if id, ok := groups[e.To]; ok {
			e.To = id
		}
		k := ek{e.From, e.To, e.Kind}
		if !seen[k] {
			seen[k] = true
			edges = append(edges, e)
		}
	}
	g.Nodes, g.Edges = nodes, edges
}

// span names a group's first and last members, which with the count is
// enough to find the rest in the input.
func span(ms []*Node) []string {
	if len(ms) == 1 {
		return []string{ms[0].Label}
	}
	return []string{ms[0].Label + " … " + ms[len(ms)-1].Label}
}

// gateways says how many of a group's clusters run an east-west gateway.
func gateways(ms []*Node) string {
	n := 0
	for _, m := range ms {
		if m.Gateway != "" {
			n++
		}
	}
	switch n {
	case 0:
		return ""
	case len(ms):
		return "east-west gateway in each"
	}
	return fmt.Sprintf("east-west gateway in %d of %d", n, len(ms))
}

// lines are the node's text, top to bottom.
func (n *Node) lines() []string {
	out := append([]string{n.Label}, n.Details...)
	if n.Gateway != "" {
		out = append(out, n.Gateway)
	}
	return out
}
