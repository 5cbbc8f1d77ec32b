package diagram_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/render"
)

// picture is one SVG to look at and what a person must see in it.
type picture struct {
	name, svg string
	labels    []string
}

// pictures are every example's mesh.svg as committed in golden/ (TestGolden
// proves it is what render writes) and the 100-cluster pictures.
func pictures(t *testing.T) []picture {
	var out []picture
	files, _ := filepath.Glob("../examples/*/mesh.yaml")
	for _, f := range files {
		ex := filepath.Base(filepath.Dir(f))
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := compiler.Vet(f, data)
		if err != nil {
			t.Fatal(err)
		}
		p := picture{name: ex, svg: filepath.Join("..", "golden", ex, render.DiagramFile), labels: []string{m.Metadata.Name}}
		for _, n := range m.Spec.Networks {
			p.labels = append(p.labels, n.Name)
		}
		for _, c := range m.Spec.Clusters {
			p.labels = append(p.labels, c.Name)
			if c.EastWestGateway != nil {
				p.labels = append(p.labels, strings.TrimSpace("east-west gateway "+c.EastWestGateway.Address))
			}
		}
		out = append(out, p)
	}
	return append(out,
		picture{"primary-remote-100", "testdata/primary-remote-100.svg", []string{"network-00", "network-09", "cluster-0000", "9 remotes", "east-west gateway 198.51.100.19"}},
		picture{"multi-primary-100", "testdata/multi-primary-100.svg", []string{"network-00", "network-09", "cluster-0099", "3 more primaries"}},
	)
}

// TestScreenshots opens each picture in headless Chromium, as a person
// would, and checks what it drew: the size asked for, not blank, every box
// outlined in its colour with text inside it, the networks' bands and the
// root of trust filled, the expected labels among the SVG's text. It writes
// the screenshots to docs/images/. It needs Chromium, so it runs only under
// MESHC_SCREENSHOTS=1 (make screenshots), not in make test.
func TestScreenshots(t *testing.T) {
	if os.Getenv("MESHC_SCREENSHOTS") == "" {
		t.Skip("set MESHC_SCREENSHOTS=1 (make screenshots) to draw the pictures in Chromium")
	}
	browser := chromium()
	if browser == "" {
		t.Skip("no Chromium: none of $CHROMIUM, chromium, chromium-browser, google-chrome on PATH")
	}
	for _, p := range pictures(t) {
		t.Run(p.name, func(t *testing.T) {
			doc := parseSVG(t, p.svg)
			texts := strings.Join(doc.texts, "\n")
			for _, l := range p.labels {
				if !strings.Contains(texts, l) {
					t.Errorf("no text node shows %q", l)
				}
			}
			shot := filepath.Join(t.TempDir(), "shot.png")
			screenshot(t, browser, p.svg, shot, doc.width, doc.height)
			img := readPNG(t, shot)
			if b := img.Bounds(); b.Dx() != doc.width || b.Dy() != doc.height {
				t.Fatalf("screenshot is %dx%d, want %dx%d", b.Dx(), b.Dy(), doc.width, doc.height)
			}
			if f := inkFraction(img, img.Bounds()); f < 0.05 {
				t.Errorf("only %.1f%% of the picture is drawn: blank?", 100*f)
			}
			for _, b := range doc.boxes {
				checkBox(t, img, b)
			}
			if t.Failed() {
				return
			}
			out := filepath.Join("..", "docs", "images", p.name+".png")
			data, err := os.ReadFile(shot)
			if err == nil {
				err = os.WriteFile(out, data, 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func chromium() string {
	if c := os.Getenv("CHROMIUM"); c != "" {
		return c
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func screenshot(t *testing.T, browser, svg, png string, w, h int) {
	abs, err := filepath.Abs(svg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--hide-scrollbars", "--force-device-scale-factor=1",
		"--window-size="+strconv.Itoa(w)+","+strconv.Itoa(h), "--screenshot="+png, "file://"+filepath.ToSlash(abs))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", browser, err, out)
	}
}

func readPNG(t *testing.T, file string) image.Image {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// box is a rectangle the SVG draws and what must be seen in it.
type box struct {
	what       string
	r          image.Rectangle
	stroke     color.RGBA // the outline, on the top edge's middle
	fill       color.RGBA // near the left edge, inside
	text       bool       // dark pixels inside
	fillOffset int
}

type svgDoc struct {
	width, height int
	texts         []string
	boxes         []box
}

// parseSVG reads the SVG as XML: its text nodes, and the rectangles of the
// clusters, the networks and the root with the colours they are drawn in.
func parseSVG(t *testing.T, file string) svgDoc {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var doc svgDoc
	dec := xml.NewDecoder(f)
	group := ""
	inText := false
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch e := tok.(type) {
		case xml.StartElement:
			a := attrs(e)
			switch e.Name.Local {
			case "svg":
				doc.width, doc.height = atoi(a["width"]), atoi(a["height"])
			case "g":
				group = a["id"]
			case "text":
				inText = true
			case "rect":
				r := image.Rect(atoi(a["x"]), atoi(a["y"]), atoi(a["x"])+atoi(a["width"]), atoi(a["y"])+atoi(a["height"]))
				switch a["class"] {
				case "primary":
					doc.setNode(group, box{what: group, r: r, stroke: rgb(0x1a73e8), fill: rgb(0xe8f0fe), text: true, fillOffset: 4})
				case "remote":
					doc.setNode(group, box{what: group, r: r, stroke: rgb(0x5f6368), fill: rgb(0xffffff), text: true, fillOffset: 4})
				case "band":
					doc.boxes = append(doc.boxes, box{what: group, r: r, stroke: rgb(0xdadce0), fill: rgb(0xf1f3f4), fillOffset: 6})
				case "root":
					doc.boxes = append(doc.boxes, box{what: "root", r: r, stroke: rgb(0xb08800), fill: rgb(0xfef7e0), text: true, fillOffset: 10})
				}
			}
		case xml.EndElement:
			if e.Name.Local == "text" {
				inText = false
			}
		case xml.CharData:
			if inText {
				doc.texts = append(doc.texts, string(e))
			}
		}
	}
	if doc.width == 0 || doc.height == 0 {
		t.Fatalf("%s: no width and height", file)
	}
	return doc
}

// setNode keeps the last rectangle of a node's group: the front card of a
// collapsed stack.
func (d *svgDoc) setNode(group string, b box) {
	if n := len(d.boxes); n > 0 && d.boxes[n-1].what == group {
		d.boxes[n-1] = b
		return
	}
	d.boxes = append(d.boxes, b)
}

func checkBox(t *testing.T, img image.Image, b box) {
	t.Helper()
	mid := (b.r.Min.X + b.r.Max.X) / 2
	found := false
	for y := b.r.Min.Y - 1; y <= b.r.Min.Y+1; y++ {
		found = found || near(img.At(mid, y), b.stroke, 60)
	}
	if !found {
		t.Errorf("%s: no outline in %v at (%d,%d), see %v", b.what, b.stroke, mid, b.r.Min.Y, img.At(mid, b.r.Min.Y))
	}
	at := image.Pt(b.r.Min.X+b.fillOffset, (b.r.Min.Y+b.r.Max.Y)/2)
	if !near(img.At(at.X, at.Y), b.fill, 12) {
		t.Errorf("%s: fill at %v is %v, want %v", b.what, at, img.At(at.X, at.Y), b.fill)
	}
	if b.text {
		inner := b.r.Inset(4)
		dark := 0
		for y := inner.Min.Y; y < inner.Max.Y; y++ {
			for x := inner.Min.X; x < inner.Max.X; x++ {
				if r, g, bl, _ := img.At(x, y).RGBA(); (r+g+bl)>>8 < 300 {
					dark++
				}
			}
		}
		if dark < 40 {
			t.Errorf("%s: %d dark pixels inside: no text drawn", b.what, dark)
		}
	}
}

// inkFraction is the share of pixels in r that are not white.
func inkFraction(img image.Image, r image.Rectangle) float64 {
	ink := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if !near(img.At(x, y), rgb(0xffffff), 8) {
				ink++
			}
		}
	}
	return float64(ink) / float64(r.Dx()*r.Dy())
}

func near(c color.Color, want color.RGBA, tol int) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, w uint8) int { return max(int(a>>8)-int(w), int(w)-int(a>>8)) }
	return d(r, want.R) <= tol && d(g, want.G) <= tol && d(b, want.B) <= tol
}

func rgb(v uint32) color.RGBA { return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 0xff} }

func attrs(e xml.StartElement) map[string]string {
	m := map[string]string{}
	for _, a := range e.Attr {
		m[a.Name.Local] = a.Value
	}
	return m
}

// atoi reads an SVG coordinate; absent is 0.
func atoi(s string) int {
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(fmt.Sprintf("not an integer: %q", s))
	}
	return n
}
