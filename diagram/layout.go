package diagram

import (
	"slices"
	"strings"
)

// Sizes in pixels. Text is sized by an average advance per character, not by
// measuring a font, so the layout is the same on every machine whatever
// fonts it has.
const (
	charW     = 7  // average advance of 12px sans-serif, on the generous side
	titleW    = 8  // the same for a node's 13px bold label
	margin    = 24 // around the picture
	boxPad    = 12 // inside a box
	railRoom  = 28 // on each side of the boxes in a column, for edge rails
	headerH   = 36 // a column's network name
	nodeGap   = 22 // between boxes in a column
	labelH    = 20
	lineH     = 16
	gatewayH  = 22
	laneW     = 8 // between parallel lines in a gap or the street
	minGap    = 48
	minBoxW   = 200
	maxBoxW   = 320
	minWidth  = 760
	rootH     = 40
	legendRow = 20
)

type rect struct{ x, y, w, h int }

func (r rect) midY() int  { return r.y + r.h/2 }
func (r rect) right() int { return r.x + r.w }

// placed is a node with its column and box.
type placed struct {
	*Node
	col int
	box rect
}

type column struct {
	id   string
	x, w int
	// nodes are the column's boxes, top to bottom.
	nodes []*placed
}

// route is an edge as line segments: the points of an orthogonal polyline.
type route struct {
	*Edge
	pts [][2]int
}

// layout is the whole picture's geometry, computed once and then drawn.
type layout struct {
	g                    *Graph
	width, height        int
	boxW, maxChars       int
	cols                 []*column
	gaps                 []int // width of the gap right of each column
	byID                 map[string]*placed
	routes               []route
	root                 rect
	busY, colTop, colBot int
	streetY              int
	legendY              int
	notes                []string
	legend               []legendItem
}

// newLayout places networks as columns side by side, each column's
// primaries above its remotes, and routes every edge orthogonally through
// rails beside the boxes, the gaps between columns and a street under them,
// so no line crosses a box.
func newLayout(g *Graph) *layout {
	l := &layout{g: g, byID: make(map[string]*placed, len(g.Nodes))}
	colOf := map[string]int{}
	for _, n := range g.Networks {
		colOf[n.ID] = len(l.cols)
		l.cols = append(l.cols, &column{id: n.ID})
	}
	widest := 0
	for i := range g.Nodes {
		n := &g.Nodes[i]
		c, ok := colOf[n.Network]
		if !ok {
			c = len(l.cols)
			colOf[n.Network] = c
			l.cols = append(l.cols, &column{id: n.Network})
		}
		p := &placed{Node: n, col: c}
		l.byID[n.ID] = p
		l.cols[c].nodes = append(l.cols[c].nodes, p)
		widest = max(widest, len([]rune(n.Label))*titleW)
		for _, s := range n.Details {
			widest = max(widest, len([]rune(s))*charW)
		}
		widest = max(widest, len([]rune(n.Gateway))*charW+2*boxPad)
	}
	for _, c := range l.cols {
		slices.SortStableFunc(c.nodes, func(a, b *placed) int { return rank(a.Kind) - rank(b.Kind) })
	}
	l.boxW = min(max(widest+2*boxPad, minBoxW), maxBoxW)
	l.maxChars = (l.boxW - 2*boxPad) / charW

	// Vertical placement: every column starts at the same height.
	l.root = rect{h: rootH, y: margin + 60}
	l.busY = l.root.y + rootH + 26
	l.colTop = l.busY + 22
	l.colBot = l.colTop
	for _, c := range l.cols {
		y := l.colTop + headerH + 8
		for _, p := range c.nodes {
			p.box = rect{y: y, w: l.boxW, h: boxHeight(p.Node)}
			y += p.box.h + nodeGap
		}
		l.colBot = max(l.colBot, y-nodeGap+16)
	}

	lanes := l.allocate()
	// Horizontal placement, now that the gaps' widths are known.
	x := margin
	for i, c := range l.cols {
		c.x, c.w = x, l.boxW+2*railRoom
		for _, p := range c.nodes {
			p.box.x = c.x + railRoom
		}
		x += c.w
		if i < len(l.cols)-1 {
			x += l.gaps[i]
		}
	}
	span := x - margin
	l.width = max(span+2*margin, minWidth)
	if shift := (l.width - 2*margin - span) / 2; shift > 0 {
		for _, c := range l.cols {
			c.x += shift
			for _, p := range c.nodes {
				p.box.x += shift
			}
		}
	}
	l.routeAll(lanes)

	rootW := min(max(len([]rune(g.Root))*titleW+3*boxPad, 300), l.width-2*margin)
	l.root.x, l.root.w = (l.width-rootW)/2, rootW
	l.legendY = l.streetY + 28
	l.notes = nil
	for _, n := range g.Notes {
		l.notes = append(l.notes, wrap(n, (l.width-2*margin)/charW)...)
	}
	l.legend = legendItems(g)
	l.height = l.legendY + len(l.legend)*legendRow + 8 + len(l.notes)*lineH + margin
	return l
}

// rank puts a column's primaries above its remotes.
func rank(k Kind) int {
	if k == Primary || k == Primaries {
		return 0
	}
	return 1
}

func boxHeight(n *Node) int {
	h := 2*8 + labelH + len(n.Details)*lineH
	if n.Gateway != "" {
		h += gatewayH + 6
	}
	return h
}

// lanePlan records, per edge, which lanes it was given; lanes are counted
// before columns are placed because they decide the gaps' widths.
type lanePlan struct {
	rail   []int // in-column: rail index
	gapA   []int // lane in the first gap crossed
	gapB   []int // lane in the last gap crossed (non-adjacent columns)
	street []int // lane in the street (non-adjacent columns)
}

func (l *layout) allocate() lanePlan {
	n := len(l.g.Edges)
	lp := lanePlan{rail: make([]int, n), gapA: make([]int, n), gapB: make([]int, n), street: make([]int, n)}
	gapUse := make([]int, max(len(l.cols)-1, 0))
	leftRail := map[string]int{} // serving source -> rail
	rightRails := make([]int, len(l.cols))
	leftRails := make([]int, len(l.cols))
	streets := 0
	for i, e := range l.g.Edges {
		a, b := l.byID[e.From], l.byID[e.To]
		if a == nil || b == nil {
			continue
		}
		switch d := b.col - a.col; {
		case d == 0 && e.Kind == Serves:
			r, ok := leftRail[e.From]
			if !ok {
				r = leftRails[a.col]
				leftRails[a.col]++
				leftRail[e.From] = r
			}
			lp.rail[i] = r
		case d == 0:
			lp.rail[i] = rightRails[a.col]
			rightRails[a.col]++
		default:
			ga, gb := a.col, b.col-1 // gap right of a, gap left of b
			if d < 0 {
				ga, gb = a.col-1, b.col
			}
			lp.gapA[i] = gapUse[ga]
			gapUse[ga]++
			if d > 1 || d < -1 {
				lp.gapB[i] = gapUse[gb]
				gapUse[gb]++
				lp.street[i] = streets
				streets++
			}
		}
	}
	l.gaps = make([]int, len(gapUse))
	for i, u := range gapUse {
		l.gaps[i] = max(minGap, 24+u*laneW)
	}
	l.streetY = l.colBot + 12 + streets*laneW
	return lp
}

// routeAll turns every edge into a polyline that leaves and enters boxes at
// their sides and runs through its allocated lanes.
func (l *layout) routeAll(lp lanePlan) {
	streetTop := l.colBot + 16
	for i := range l.g.Edges {
		e := &l.g.Edges[i]
		a, b := l.byID[e.From], l.byID[e.To]
		if a == nil || b == nil {
			continue
		}
		ay, by := a.box.midY(), b.box.midY()
		var pts [][2]int
		switch d := b.col - a.col; {
		case d == 0 && e.Kind == Serves:
			x := a.box.x - 10 - min(lp.rail[i], 3)*6
			pts = [][2]int{{a.box.x, ay}, {x, ay}, {x, by}, {b.box.x, by}}
		case d == 0:
			x := a.box.right() + 10 + min(lp.rail[i], 3)*6
			pts = [][2]int{{a.box.right(), ay}, {x, ay}, {x, by}, {b.box.right(), by}}
		case d > 0:
			xa := l.cols[a.col].x + l.cols[a.col].w + 12 + lp.gapA[i]*laneW
			if d == 1 {
				pts = [][2]int{{a.box.right(), ay}, {xa, ay}, {xa, by}, {b.box.x, by}}
				break
			}
			xb := l.cols[b.col-1].x + l.cols[b.col-1].w + 12 + lp.gapB[i]*laneW
			y := streetTop + lp.street[i]*laneW
			pts = [][2]int{{a.box.right(), ay}, {xa, ay}, {xa, y}, {xb, y}, {xb, by}, {b.box.x, by}}
		default:
			xa := l.cols[a.col-1].x + l.cols[a.col-1].w + 12 + lp.gapA[i]*laneW
			if d == -1 {
				pts = [][2]int{{a.box.x, ay}, {xa, ay}, {xa, by}, {b.box.right(), by}}
				break
			}
			xb := l.cols[b.col].x + l.cols[b.col].w + 12 + lp.gapB[i]*laneW
			y := streetTop + lp.street[i]*laneW
			pts = [][2]int{{a.box.x, ay}, {xa, ay}, {xa, y}, {xb, y}, {xb, by}, {b.box.right(), by}}
		}
		l.routes = append(l.routes, route{Edge: e, pts: pts})
	}
}

// wrap breaks s into lines of at most n characters, at spaces.
func wrap(s string, n int) []string {
	var out []string
	line := ""
	for _, w := range strings.Fields(s) {
		switch {
		case line == "":
			line = w
		case len([]rune(line))+1+len([]rune(w)) <= n:
			line += " " + w
		default:
			out = append(out, line)
			line = w
		}
	}
	if line != "" {
		out = append(out, line)
	}
	return out
}

// fit shortens s to n characters, marking the cut with an ellipsis.
func fit(s string, n int) string {
	r := []rune(s)
	if len(r) <= n || n < 2 {
		return s
	}
	return string(r[:n-1]) + "…"
}
