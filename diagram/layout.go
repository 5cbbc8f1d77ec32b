package diagram

import (
	"slices"
	"strconv"
	"strings"
)

// Sizes in pixels. Text is sized by an average advance per character, not by
// measuring a font, so the layout is the same on every machine whatever
// fonts it has.
const (
	charW     = 7  // average advance of 12px sans-serif, on the generous side
	titleW    = 8  // the same for 13px bold
	margin    = 24 // around the picture
	boxPad    = 12 // inside a box
	railRoom  = 28 // on each side of a column's boxes, for its rails
	headerH   = 36 // a column's network name
	nodeGap   = 22 // between boxes in a column
	labelH    = 20
	lineH     = 16
	gatewayH  = 22
	laneW     = 8 // between parallel lines in a gap or a street
	minGap    = 48
	minBoxW   = 200
	maxBoxW   = 320
	minWidth  = 760
	rootH     = 40
	legendRow = 20
	busRoom   = 40 // above a row: the trust bus and its drops
	// perRowMax is the most networks side by side; more wrap into rows,
	// so ten networks are two rows of five rather than one strip.
	perRowMax = 5
)

type rect struct{ x, y, w, h int }

func (r rect) midY() int  { return r.y + r.h/2 }
func (r rect) right() int { return r.x + r.w }

// placed is a node with its column and box.
type placed struct {
	*Node
	col *column
	box rect
}

// column is one network: its place in the grid and its boxes, top to
// bottom.
type column struct {
	id       string
	row, pos int
	x        int
	nodes    []*placed
	clusters int
}

// row is a band of columns, with a street under it for lines that cross
// columns.
type row struct {
	busY, top, bottom int
	streetY           int // first lane of the street under the row
	streets           int
}

// route is an edge as the points of an orthogonal polyline.
type route struct {
	*Edge
	pts [][2]int
}

// layout is the whole picture's geometry, computed once, then drawn.
type layout struct {
	g             *Graph
	width, height int
	boxW, colW    int
	maxChars      int
	perRow        int
	cols          []*column
	rows          []*row
	gapX, gapW    []int // gap g is left of the column at position g
	byID          map[string]*placed
	routes        []route
	root          rect
	trunkX        int
	legendY       int
	notes         []string
	legend        []legendItem
	lanes         lanePlan
}

// newLayout places networks as columns in rows of at most perRowMax, each
// column's primaries above its remotes, and routes every edge orthogonally
// through rails beside the boxes, the gaps between columns (which line up
// from row to row) and a street under each row, so no line crosses a box.
func newLayout(g *Graph) *layout {
	l := &layout{g: g, byID: make(map[string]*placed, len(g.Nodes))}
	colOf := map[string]*column{}
	for _, id := range networkOrder(g) {
		colOf[id] = &column{id: id}
		l.cols = append(l.cols, colOf[id])
	}
	widest := 0
	for i := range g.Nodes {
		n := &g.Nodes[i]
		c := colOf[n.Network]
		p := &placed{Node: n, col: c}
		l.byID[n.ID] = p
		c.nodes = append(c.nodes, p)
		c.clusters += max(n.Count, 1)
		widest = max(widest, len([]rune(n.Label))*titleW)
		for _, s := range n.Details {
			widest = max(widest, len([]rune(s))*charW)
		}
		widest = max(widest, len([]rune(n.Gateway))*charW+boxPad)
	}
	l.boxW = min(max(widest+2*boxPad, minBoxW), maxBoxW)
	l.colW = l.boxW + 2*railRoom
	l.maxChars = (l.boxW - 2*boxPad) / charW
	n := len(l.cols)
	l.perRow = max(1, n)
	if n > perRowMax+1 {
		rows := (n + perRowMax - 1) / perRowMax
		l.perRow = (n + rows - 1) / rows
	}
	for i, c := range l.cols {
		c.row, c.pos = i/l.perRow, i%l.perRow
		slices.SortStableFunc(c.nodes, func(a, b *placed) int { return rank(a.Kind) - rank(b.Kind) })
		if c.row == len(l.rows) {
			l.rows = append(l.rows, &row{})
		}
	}
	l.lanes = l.allocate()
	l.placeX()
	l.placeY()
	l.routeAll()
	l.legend = legendItems(g)
	for _, s := range g.Notes {
		l.notes = append(l.notes, wrap(s, (l.width-2*margin)/charW)...)
	}
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

// boxHeight fits a node's label, details and gateway strip.
func boxHeight(n *Node) int {
	h := 2*8 + labelH + len(n.Details)*lineH
	if n.Gateway != "" {
		h += gatewayH + 6
	}
	return h
}

// placeX sets the gaps' and columns' x, now that the gaps' lanes are
// counted, and centres the grid when the picture is wider than it.
func (l *layout) placeX() {
	l.gapX, l.gapW = make([]int, l.perRow+1), make([]int, l.perRow+1)
	span := 0
	for g := range l.gapW {
		w := 24 + l.lanes.gapUse[g]*laneW
		if g > 0 && g < l.perRow {
			w = max(w, minGap)
		} else if l.lanes.gapUse[g] == 0 {
			w = 0
		}
		l.gapW[g] = w
		span += w
	}
	span += l.perRow * l.colW
	l.width = max(span+2*margin, minWidth)
	x := margin + (l.width-2*margin-span)/2
	for g := range l.gapW {
		l.gapX[g] = x
		x += l.gapW[g] + l.colW
	}
	for _, c := range l.cols {
		c.x = l.gapX[c.pos] + l.gapW[c.pos]
		for _, p := range c.nodes {
			p.box.x = c.x + railRoom
			p.box.w = l.boxW
		}
	}
	l.trunkX = margin / 2
	rootW := min(max(len([]rune(l.g.Root))*titleW+3*boxPad, 300), l.width-2*margin)
	l.root = rect{x: (l.width - rootW) / 2, y: margin + 60, w: rootW, h: rootH}
}

// placeY stacks the rows under the root of trust, each with its bus above
// and its street below.
func (l *layout) placeY() {
	y := l.root.y + l.root.h
	for ri, r := range l.rows {
		r.busY, r.top = y+busRoom/2, y+busRoom
		if ri > 0 {
			prev := l.rows[ri-1]
			r.busY = prev.streetY + prev.streets*laneW + busRoom/2
			r.top = r.busY + busRoom/2
		}
		bottom := r.top
		for _, c := range l.cols {
			if c.row != ri {
				continue
			}
			y := r.top + headerH + 8
			for _, p := range c.nodes {
				p.box.y, p.box.h = y, boxHeight(p.Node)
				y += p.box.h + nodeGap
			}
			bottom = max(bottom, y-nodeGap+16)
		}
		r.bottom = bottom
		r.streetY = r.bottom + 14
	}
	l.legendY = y + busRoom
	if len(l.rows) > 0 {
		last := l.rows[len(l.rows)-1]
		l.legendY = last.streetY + last.streets*laneW + 22
	}
}

// lanePlan records the lanes each edge was given. They are counted before
// anything is placed because they decide the gaps' widths and the streets'
// heights.
type lanePlan struct {
	rail         []int // same column: rail index
	gapA, gapB   []int // gap index left (or right) of source and target
	laneA, laneB []int
	street       []int // street index, -1 for none
	streetLane   []int
	gapUse       []int
}

func (l *layout) allocate() lanePlan {
	n := len(l.g.Edges)
	lp := lanePlan{rail: make([]int, n), gapA: make([]int, n), gapB: make([]int, n), laneA: make([]int, n),
		laneB: make([]int, n), street: make([]int, n), streetLane: make([]int, n), gapUse: make([]int, l.perRow+1)}
	leftRail := map[string]int{} // a serving node's rail, shared by its edges
	leftRails, rightRails := make([]int, len(l.cols)), make([]int, len(l.cols))
	colIndex := make(map[*column]int, len(l.cols))
	for i, c := range l.cols {
		colIndex[c] = i
	}
	for i, e := range l.g.Edges {
		lp.street[i] = -1
		a, b := l.byID[e.From], l.byID[e.To]
		if a == nil || b == nil {
			continue
		}
		ca, cb := a.col, b.col
		switch {
		case ca == cb && e.Kind == Serves:
			r, ok := leftRail[e.From]
			if !ok {
				r = leftRails[colIndex[ca]]
				leftRails[colIndex[ca]]++
				leftRail[e.From] = r
			}
			lp.rail[i] = r
			continue
		case ca == cb:
			lp.rail[i] = rightRails[colIndex[ca]]
			rightRails[colIndex[ca]]++
			continue
		}
		// Leave toward the target's side, enter from the source's side.
		lp.gapA[i], lp.gapB[i] = ca.pos+1, cb.pos
		if cb.pos < ca.pos {
			lp.gapA[i], lp.gapB[i] = ca.pos, cb.pos+1
		} else if cb.pos == ca.pos {
			lp.gapB[i] = cb.pos + 1
		}
		lp.laneA[i] = lp.gapUse[lp.gapA[i]]
		lp.gapUse[lp.gapA[i]]++
		if lp.gapA[i] == lp.gapB[i] {
			lp.laneB[i] = lp.laneA[i]
			continue // one vertical line in the shared gap
		}
		lp.laneB[i] = lp.gapUse[lp.gapB[i]]
		lp.gapUse[lp.gapB[i]]++
		s := ca.row // the street under the source's row, or over it when going up
		if cb.row < ca.row {
			s = ca.row - 1
		}
		lp.street[i] = s
		lp.streetLane[i] = l.rows[s].streets
		l.rows[s].streets++
	}
	return lp
}

// laneX is the x of lane k in gap g.
func (l *layout) laneX(g, k int) int { return l.gapX[g] + 12 + k*laneW }

// end is one end of an edge at a box's side.
type end struct {
	node  *placed
	right bool
	// key: ends with the same key share a port (a serving node's rail).
	key   string
	other *placed
}

// ports spreads the ends meeting one side of a box over its height, ordered
// by where their other ends are, so lines leave and arrive apart.
func ports(ends []end) []int {
	type side struct {
		id    string
		right bool
	}
	keys := map[side][]string{}
	rank := map[string]int{} // key -> position among its side's keys
	other := map[string]*placed{}
	for _, e := range ends {
		s := side{e.node.ID, e.right}
		if _, ok := other[e.key]; !ok {
			keys[s] = append(keys[s], e.key)
			other[e.key] = e.other
		}
	}
	for _, ks := range keys {
		slices.SortStableFunc(ks, func(a, b string) int {
			oa, ob := other[a], other[b]
			if oa.col.row != ob.col.row {
				return oa.col.row - ob.col.row
			}
			return oa.box.y - ob.box.y
		})
		for i, k := range ks {
			rank[k] = i
		}
	}
	ys := make([]int, len(ends))
	for i, e := range ends {
		n := len(keys[side{e.node.ID, e.right}])
		b := e.node.box
		ys[i] = b.y + b.h*(rank[e.key]+1)/(n+1)
	}
	return ys
}

// routeAll turns every edge into a polyline that leaves and enters boxes at
// their sides and runs through its lanes.
func (l *layout) routeAll() {
	lp := l.lanes
	type pair struct{ a, b *placed }
	edges := make([]pair, len(l.g.Edges))
	var ends []end
	for i := range l.g.Edges {
		e := &l.g.Edges[i]
		a, b := l.byID[e.From], l.byID[e.To]
		if a == nil || b == nil {
			continue
		}
		edges[i] = pair{a, b}
		ka, kb := "edge "+strconv.Itoa(i)+" from", "edge "+strconv.Itoa(i)+" to"
		var ra, rb bool
		switch {
		case a.col == b.col && e.Kind == Serves:
			ka = "rail " + e.From
		case a.col == b.col:
			ra, rb = true, true
		default:
			ra, rb = lp.gapA[i] > a.col.pos, lp.gapB[i] > b.col.pos
		}
		ends = append(ends, end{a, ra, ka, b}, end{b, rb, kb, a})
	}
	ys := ports(ends)
	k := 0
	for i := range l.g.Edges {
		e := &l.g.Edges[i]
		a, b := edges[i].a, edges[i].b
		if a == nil {
			continue
		}
		ay, by := ys[k], ys[k+1]
		xa, xb := a.box.x, b.box.x
		if ends[k].right {
			xa = a.box.right()
		}
		if ends[k+1].right {
			xb = b.box.right()
		}
		k += 2
		var pts [][2]int
		switch {
		case a.col == b.col && e.Kind == Serves:
			x := a.box.x - 10 - min(lp.rail[i], 3)*6
			pts = [][2]int{{xa, ay}, {x, ay}, {x, by}, {xb, by}}
		case a.col == b.col:
			x := a.box.right() + 10 + min(lp.rail[i], 3)*6
			pts = [][2]int{{xa, ay}, {x, ay}, {x, by}, {xb, by}}
		case lp.street[i] < 0:
			x := l.laneX(lp.gapA[i], lp.laneA[i])
			pts = [][2]int{{xa, ay}, {x, ay}, {x, by}, {xb, by}}
		default:
			x1, x2 := l.laneX(lp.gapA[i], lp.laneA[i]), l.laneX(lp.gapB[i], lp.laneB[i])
			s := l.rows[lp.street[i]]
			y := s.streetY + lp.streetLane[i]*laneW
			pts = [][2]int{{xa, ay}, {x1, ay}, {x1, y}, {x2, y}, {x2, by}, {xb, by}}
		}
		l.routes = append(l.routes, route{Edge: e, pts: pts})
	}
}

// path is pts as SVG path data.
func path(pts [][2]int) string {
	var d strings.Builder
	for i, pt := range pts {
		if i == 0 {
			d.WriteByte('M')
		} else {
			d.WriteByte('L')
		}
		d.WriteString(strconv.Itoa(pt[0]))
		d.WriteByte(',')
		d.WriteString(strconv.Itoa(pt[1]))
	}
	return d.String()
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

// fit shortens s to n characters by cutting its middle, marked with an
// ellipsis: names that differ only at the end (EKS ARNs, GKE contexts)
// stay told apart, and the box's <title> holds the whole text.
func fit(s string, n int) string {
	r := []rune(s)
	if len(r) <= n || n < 2 {
		return s
	}
	tail := (n - 1) / 2
	return string(r[:n-1-tail]) + "…" + string(r[len(r)-tail:])
}
