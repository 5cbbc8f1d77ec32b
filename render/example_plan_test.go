package render_test

import (
	"fmt"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/render"
)

// BuildPlan orders the install of a mesh; here two primaries and a remote,
// so P×(N−1) = 2×2 = 4 remote secrets.
func ExampleBuildPlan() {
	m, err := compiler.Vet("mesh.yaml", []byte(`
apiVersion: meshc.dev/v1alpha1
kind: Mesh
metadata: {name: demo}
spec:
  meshID: mesh1
  topology: primary-remote
  istio: {version: "1.28.0"}
  networks: [{name: network1}]
  clusters:
    - {name: east, network: network1, role: primary, eastWestGateway: {address: 192.0.2.10}}
    - {name: west, network: network1, role: primary}
    - {name: edge, network: network1, role: remote, controlPlane: east}
`))
	if err != nil {
		panic(err)
	}
	for _, ph := range render.BuildPlan(m).Phases {
		fmt.Printf("%-16s %d steps\n", ph.ID, len(ph.Steps))
	}
	for _, s := range mesh.RemoteSecrets(m) {
		fmt.Printf("%s reads %s\n", s.Reader.Name, s.Source.Name)
	}
	// Output:
	// namespaces       3 steps
	// cacerts          3 steps
	// primaries        2 steps
	// primary-gateways 1 steps
	// expose           2 steps
	// remote-secrets   4 steps
	// remotes          1 steps
	// east reads west
	// east reads edge
	// west reads east
	// west reads edge
}
