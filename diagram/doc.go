// Package diagram draws a mesh as a picture a platform engineer would put on
// the wall: networks as columns, clusters as boxes, which primary serves
// which remote, east-west gateways and their addresses, who reads whose API
// server, and the one root of trust every cluster chains to.
//
// In: a Graph of picture facts (networks, nodes, edges, notes), built from a
// loaded mesh by render.Diagram and reduced by Simplify so it stays
// readable at 100 clusters and more.
// Out: Mermaid text (embedded in PLAN.md, drawn by GitHub and GitLab),
// Graphviz DOT text, and SVG laid out by this package without Graphviz.
// The same Graph always gives the same bytes.
package diagram
