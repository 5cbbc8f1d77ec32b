package diagram

import (
	"bytes"
	"fmt"
	"strings"
)

// Colours, one per meaning: the legend names them.
const (
	colServe   = "#1a73e8" // istiod serving a remote
	colRead    = "#e8710a" // reading an API server
	colTrust   = "#b08800" // the shared root of trust
	colGateway = "#188038" // east-west gateway
)

const style = `
text { font-family: "DejaVu Sans", "Liberation Sans", Helvetica, Arial, sans-serif; font-size: 12px; fill: #202124; }
.title { font-size: 20px; font-weight: bold; }
.sub, .note { fill: #5f6368; }
.net { font-size: 14px; font-weight: bold; fill: #3c4043; }
.label { font-size: 13px; font-weight: bold; }
.gw { fill: ` + colGateway + `; }
.band { fill: #f1f3f4; stroke: #dadce0; }
.primary { fill: #e8f0fe; stroke: ` + colServe + `; stroke-width: 1.5; }
.remote { fill: #ffffff; stroke: #5f6368; stroke-width: 1.5; }
.gwbox { fill: #e6f4ea; stroke: ` + colGateway + `; }
.root { fill: #fef7e0; stroke: ` + colTrust + `; stroke-width: 1.5; }
.serve { fill: none; stroke: ` + colServe + `; stroke-width: 1.5; }
.read { fill: none; stroke: ` + colRead + `; stroke-width: 1.5; stroke-dasharray: 6 4; }
.trust { fill: none; stroke: ` + colTrust + `; stroke-width: 1.5; }
`

// SVG draws the graph with this package's own layout (see newLayout): no
// Graphviz, no fonts read, integer coordinates, so the bytes are the same
// on every machine.
func SVG(g *Graph) []byte {
	l := newLayout(g)
	var b bytes.Buffer
	b.Grow(4096 + 600*len(g.Nodes) + 200*len(g.Edges))
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`+"\n", l.width, l.height, l.width, l.height)
	w("<title>%s</title>\n<defs><style>%s</style>\n", esc(g.Title), style)
	for _, m := range [][2]string{{"serve", colServe}, {"read", colRead}, {"trust", colTrust}} {
		w(`<marker id="arrow-%s" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="%s"/></marker>`+"\n", m[0], m[1])
	}
	w("</defs>\n")
	w(`<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", l.width, l.height)
	w(`<text class="title" x="%d" y="%d">%s</text>`+"\n", margin, margin+20, esc(g.Title))
	w(`<text class="sub" x="%d" y="%d">%s</text>`+"\n", margin, margin+42, esc(g.Subtitle))
	l.drawTrust(w)
	for _, c := range l.cols {
		r := l.rows[c.row]
		w(`<g id="%s">`+"\n", ident("network", c.id))
		w(`<rect class="band" x="%d" y="%d" width="%d" height="%d" rx="10"/>`+"\n", c.x, r.top, l.colW, r.bottom-r.top)
		count := clusters(c.clusters)
		w(`<text class="net" x="%d" y="%d">%s</text>`+"\n", c.x+12, r.top+24, esc(fit(c.id, (l.colW-36-len(count)*charW)/titleW)))
		w(`<text class="sub" x="%d" y="%d" text-anchor="end">%s</text>`+"\n", c.x+l.colW-12, r.top+24, esc(count))
		w("</g>\n")
	}
	for _, p := range l.byOrder() {
		l.drawNode(w, p)
	}
	for _, r := range l.routes {
		drawRoute(w, r)
	}
	l.drawLegend(w)
	w("</svg>\n")
	return b.Bytes()
}

// byOrder is the placed nodes in the graph's order, so the SVG's element
// order follows the input.
func (l *layout) byOrder() []*placed {
	out := make([]*placed, 0, len(l.g.Nodes))
	for i := range l.g.Nodes {
		out = append(out, l.byID[l.g.Nodes[i].ID])
	}
	return out
}

// drawTrust draws the root of trust and one line from it into every
// network: every cluster's intermediate CA is signed by this one root.
func (l *layout) drawTrust(w func(string, ...any)) {
	if l.g.Root == "" || len(l.cols) == 0 {
		return
	}
	r := l.root
	w(`<g id="root">` + "\n")
	w(`<rect class="root" x="%d" y="%d" width="%d" height="%d" rx="20"/>`+"\n", r.x, r.y, r.w, r.h)
	w(`<text class="label" x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", r.x+r.w/2, r.midY()+5, esc(fit(l.g.Root, (r.w-2*boxPad)/charW)))
	cx := r.x + r.w/2
	top := l.rows[0]
	w(`<path class="trust" d="M%d,%dV%d"/>`+"\n", cx, r.y+r.h, top.busY)
	if len(l.rows) > 1 {
		// A trunk down the left edge feeds each further row's bus.
		w(`<path class="trust" d="M%d,%dV%d"/>`+"\n", l.trunkX, top.busY, l.rows[len(l.rows)-1].busY)
	}
	for ri, rw := range l.rows {
		x0, x1 := cx, cx
		if len(l.rows) > 1 {
			x0 = l.trunkX
		}
		for _, c := range l.cols {
			if c.row == ri {
				x0, x1 = min(x0, c.x+l.colW/2), max(x1, c.x+l.colW/2)
				w(`<path class="trust" d="M%d,%dV%d" marker-end="url(#arrow-trust)"/>`+"\n", c.x+l.colW/2, rw.busY, rw.top)
			}
		}
		if ri > 0 {
			x1 = 0
			for _, c := range l.cols {
				if c.row == ri {
					x1 = max(x1, c.x+l.colW/2)
				}
			}
		}
		w(`<path class="trust" d="M%d,%dH%d"/>`+"\n", x0, rw.busY, x1)
	}
	w(`<text class="note" x="%d" y="%d">signs every cluster's intermediate CA (cacerts)</text>`+"\n", cx+8, r.y+r.h+17)
	w("</g>\n")
}

func (l *layout) drawNode(w func(string, ...any), p *placed) {
	b := p.box
	class := "remote"
	if p.Kind == Primary || p.Kind == Primaries {
		class = "primary"
	}
	w(`<g id="%s">`+"\n", ident("node", p.ID))
	w("<title>%s</title>\n", esc(strings.Join(p.lines(), "\n")))
	if p.Group() {
		// A stack of cards: this box stands for several clusters.
		for _, off := range []int{8, 4} {
			w(`<rect class="%s" x="%d" y="%d" width="%d" height="%d" rx="8"/>`+"\n", class, b.x+off, b.y-off, b.w, b.h)
		}
	}
	w(`<rect class="%s" x="%d" y="%d" width="%d" height="%d" rx="8"/>`+"\n", class, b.x, b.y, b.w, b.h)
	y := b.y + 8 + 15
	w(`<text class="label" x="%d" y="%d">%s</text>`+"\n", b.x+boxPad, y, esc(fit(p.Label, (b.w-2*boxPad)/titleW)))
	y += labelH - 15
	for _, s := range p.Details {
		y += lineH
		w(`<text x="%d" y="%d">%s</text>`+"\n", b.x+boxPad, y-3, esc(fit(s, l.maxChars)))
	}
	if p.Gateway != "" {
		gy := b.y + b.h - 8 - gatewayH
		w(`<rect class="gwbox" x="%d" y="%d" width="%d" height="%d" rx="4"/>`+"\n", b.x+boxPad/2, gy, b.w-boxPad, gatewayH)
		w(`<text class="gw" x="%d" y="%d">%s</text>`+"\n", b.x+boxPad, gy+15, esc(fit(p.Gateway, l.maxChars)))
	}
	w("</g>\n")
}

func drawRoute(w func(string, ...any), r route) {
	kind := "serve"
	if r.Kind == Reads {
		kind = "read"
	}
	start := ""
	if r.Both {
		start = fmt.Sprintf(` marker-start="url(#arrow-%s)"`, kind)
	}
	w(`<path class="%s" d="%s"%s marker-end="url(#arrow-%s)"><title>%s</title></path>`+"\n",
		kind, path(r.pts), start, kind, esc(r.From+" → "+r.To+": "+r.Label))
}

// drawLegend says what each line means, then the notes.
func (l *layout) drawLegend(w func(string, ...any)) {
	y := l.legendY
	w(`<g id="legend">` + "\n")
	for i, it := range l.legend {
		yy := y + i*legendRow
		w(`<path class="%s" d="M%d,%dH%d" marker-end="url(#arrow-%s)"/>`+"\n", it.class, margin, yy-4, margin+40, it.class)
		w(`<text x="%d" y="%d">%s</text>`+"\n", margin+52, yy, esc(it.text))
	}
	y += len(l.legend)*legendRow + 8
	for i, n := range l.notes {
		w(`<text class="note" x="%d" y="%d">%s</text>`+"\n", margin, y+i*lineH, esc(n))
	}
	w("</g>\n")
}

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

func esc(s string) string { return escaper.Replace(s) }

// legendItem is one line of the legend: a line style and what it means.
type legendItem struct{ class, text string }

// legendItems names the kinds of line the picture holds, and only those.
func legendItems(g *Graph) []legendItem {
	var serves, reads bool
	for _, e := range g.Edges {
		serves = serves || e.Kind == Serves
		reads = reads || e.Kind == Reads
	}
	var out []legendItem
	if serves {
		out = append(out, legendItem{"serve", "istiod serves the remote: configuration, sidecar injection, certificates"})
	}
	if reads {
		out = append(out, legendItem{"read", "istiod reads the cluster's API server (remote secret)"})
	}
	if g.Root != "" {
		out = append(out, legendItem{"trust", "one root CA signs every cluster's intermediate CA"})
	}
	return out
}

// clusters is a network's size, shown in its header because collapsed
// boxes hide it.
func clusters(n int) string {
	if n == 1 {
		return "1 cluster"
	}
	return fmt.Sprintf("%d clusters", n)
}

// ident makes an element id from a kind and a name: names are DNS labels,
// collapsed groups' IDs have spaces, and an id must be one XML name.
func ident(kind, name string) string {
	return kind + "-" + strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '-'
	}, name)
}
