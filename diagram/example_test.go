package diagram_test

import (
	"fmt"

	"meshc.dev/meshc/diagram"
)

// A Graph holds the facts; Simplify decides what is drawn (here, that the
// primary's read of its remote's API server rides on the serve edge), and
// each format draws the result. render.Diagram builds the Graph of a
// loaded Mesh.
func ExampleMermaid() {
	g := &diagram.Graph{
		Title:    "demo",
		Root:     "shared root CA",
		Networks: []diagram.Network{{ID: "network1"}},
		Nodes: []diagram.Node{
			{ID: "cluster1", Network: "network1", Kind: diagram.Primary, Label: "cluster1", Gateway: "east-west gateway 192.0.2.10"},
			{ID: "cluster2", Network: "network1", Kind: diagram.Remote, Label: "cluster2"},
		},
		Edges:   []diagram.Edge{{From: "cluster1", To: "cluster2", Kind: diagram.Serves, Label: "istiod at 192.0.2.10"}},
		ReadAll: []string{"cluster1"},
	}
	fmt.Print(diagram.Mermaid(g.Simplify(diagram.DefaultLimits)))
	// Output:
	// flowchart TB
	//   root(["shared root CA"])
	//   subgraph net1["network1"]
	//     direction TB
	//     n1["<b>cluster1</b><br/>east-west gateway 192.0.2.10"]
	//     n2["<b>cluster2</b>"]
	//   end
	//   root -. "signs intermediate CA" .-> net1
	//   n1 -- "istiod at 192.0.2.10 · reads API server" --> n2
	//   classDef primary fill:#e8f0fe,stroke:#1a73e8
	//   classDef remote fill:#ffffff,stroke:#5f6368
	//   classDef root fill:#fef7e0,stroke:#b08800
	//   class n1 primary
	//   class n2 remote
	//   class root root
}
