package diagram_test

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/diagram"
	"meshc.dev/meshc/internal/golden"
	"meshc.dev/meshc/internal/meshgen"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/render"
)

func generated(t testing.TB, s meshgen.Shape) *mesh.Mesh {
	t.Helper()
	m, err := compiler.Vet("mesh.yaml", meshgen.Generate(s))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var (
	svgPaths = regexp.MustCompile(`<path class="(serve|read)" d="[^"]*"( marker-start="[^"]*")? marker-end="[^"]*"><title>`)
	mmdEdges = regexp.MustCompile(`(?m)^  n\d+ .*(-->|\.->) n\d+$`)
)

// The picture of a mesh stays the same size however many clusters it has,
// past a point: the numbers below are the whole picture at 100 and 1000
// clusters, and every format draws the same edges.
func TestScale(t *testing.T) {
	for _, tc := range []struct {
		shape                meshgen.Shape
		nodes, serves, reads int
		groups               string // label of every collapsed node, if any
	}{
		{meshgen.Shape{Topology: meshgen.PrimaryRemote, Clusters: 3}, 3, 2, 0, ""},
		{meshgen.Shape{Topology: meshgen.PrimaryRemote, Clusters: 100}, 20, 10, 0, "9 remotes"},
		{meshgen.Shape{Topology: meshgen.PrimaryRemote, Clusters: 1000}, 20, 10, 0, "99 remotes"},
		{meshgen.Shape{Topology: meshgen.MultiPrimary, Clusters: 3}, 3, 0, 3, ""},
		{meshgen.Shape{Topology: meshgen.MultiPrimary, Clusters: 100}, 80, 0, 0, "3 more primaries"},
		{meshgen.Shape{Topology: meshgen.MultiPrimary, Clusters: 1000}, 80, 0, 0, "93 more primaries"},
	} {
		t.Run(tc.shape.String(), func(t *testing.T) {
			g := render.Diagram(generated(t, tc.shape))
			serves, reads := kinds(g)
			if len(g.Nodes) != tc.nodes || serves != tc.serves || reads != tc.reads {
				t.Errorf("%d nodes, %d serve and %d read edges; want %d, %d and %d", len(g.Nodes), serves, reads, tc.nodes, tc.serves, tc.reads)
			}
			for _, n := range g.Nodes {
				if n.Group() && n.Label != tc.groups {
					t.Errorf("collapsed node %q, want %q", n.Label, tc.groups)
				}
			}
			svg := string(diagram.SVG(g))
			if got := len(svgPaths.FindAllString(svg, -1)); got != serves+reads {
				t.Errorf("SVG draws %d lines between clusters, want %d", got, serves+reads)
			}
			if tc.groups != "" && !strings.Contains(svg, ">"+tc.groups+"</text>") {
				t.Errorf("SVG does not show %q", tc.groups)
			}
			if got := len(mmdEdges.FindAllString(diagram.Mermaid(g), -1)); got != serves+reads {
				t.Errorf("Mermaid draws %d edges between clusters, want %d", got, serves+reads)
			}
			if tc.shape.Topology == meshgen.MultiPrimary && tc.shape.Clusters > 3 {
				want := "each of the " + strconv.Itoa(tc.shape.Clusters) + " primaries reads every other cluster's API server"
				if !strings.Contains(svg, want) || !strings.Contains(diagram.Mermaid(g), want) {
					t.Errorf("SVG or Mermaid does not say %q once", want)
				}
			}
		})
	}
}

// TestGoldenLarge keeps the 100-cluster pictures as golden files, so a
// change to the layout shows up in review at the size people worry about.
func TestGoldenLarge(t *testing.T) {
	for _, topo := range meshgen.Topologies {
		s := meshgen.Shape{Topology: topo, Clusters: 100}
		golden.File(t, filepath.Join("testdata", string(topo)+"-100.svg"), diagram.SVG(render.Diagram(generated(t, s))))
	}
}

// BenchmarkDraw is what drawing adds to a render: the picture's graph from
// the checked mesh, its SVG and its Mermaid.
func BenchmarkDraw(b *testing.B) {
	for _, topo := range meshgen.Topologies {
		for _, n := range []int{100, 1000} {
			s := meshgen.Shape{Topology: topo, Clusters: n}
			m := generated(b, s)
			b.Run(s.String(), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					g := render.Diagram(m)
					diagram.SVG(g)
					diagram.Mermaid(g)
				}
			})
		}
	}
}

// A primary whose gateway address is learned at install says so, and so
// does the edge to its remotes, rather than showing no address at all.
func TestLearnedAddress(t *testing.T) {
	m, err := compiler.Vet("mesh.yaml", []byte(`apiVersion: meshc.dev/v1alpha1
kind: Mesh
metadata:
  name: learn
spec:
  meshID: mesh1
  topology: primary-remote
  istio:
    version: "1.28.0"
  networks:
    - name: network1
  clusters:
    - name: cluster1
      network: network1
      role: primary
      eastWestGateway:
        learnAddress: true
    - name: cluster2
      network: network1
      role: remote
      controlPlane: cluster1
`))
	if err != nil {
		t.Fatal(err)
	}
	g := render.Diagram(m)
	if got := g.Nodes[0].Gateway; got != "east-west gateway (address learned)" {
		t.Errorf("gateway %q", got)
	}
	if got := g.Edges[0].Label; got != "istiod, address learned after install · reads API server" {
		t.Errorf("edge %q", got)
	}
}
