package main

import (
	"fmt"
	"strings"

	"meshc.dev/meshc/diagram"
	"meshc.dev/meshc/render"
)

// graphFormats are the forms `meshc graph` prints the picture in.
var graphFormats = []string{"mermaid", "dot", "svg"}

func newGraphCmd(e *env) *command {
	c := &command{name: "graph", summary: "draw the mesh: networks, clusters, gateways, who serves and reads whom (Mermaid, DOT or SVG)",
		usage: "graph [--format mermaid|dot|svg] FILE"}
	c.flags = newFlagSet(e, c.name, c.usage)
	format := c.flags.String("format", "mermaid", "output `format`: "+strings.Join(graphFormats, ", ")+" (svg is the mesh.svg render writes)")
	c.run = func(args []string) int {
		if len(args) != 1 {
			fmt.Fprintf(e.stderr, "meshc graph: expected one Mesh file, got %d arguments\n", len(args))
			c.flags.Usage()
			return exitError
		}
		if !e.oneOf("graph", "--format", *format, graphFormats) {
			return exitError
		}
		m, code := e.vet("graph", args[0])
		if code != exitOK {
			return code
		}
		g := render.Diagram(m)
		var out []byte
		switch *format {
		case "mermaid":
			out = []byte(diagram.Mermaid(g))
		case "dot":
			out = []byte(diagram.DOT(g))
		default:
			out = diagram.SVG(g)
		}
		_, err := e.stdout.Write(out)
		return e.fail("graph", err)
	}
	return c
}
