package compiler_test

import (
	"fmt"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/diag"
)

const exampleMesh = `apiVersion: meshc.dev/v1alpha1
kind: Mesh
metadata:
  name: demo
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
        address: 192.0.2.10
    - name: cluster2
      network: network1
      role: remote
      controlPlane: cluster1
`

// Compile runs Load, Validate and Render; the result is an in-memory tree
// that Write puts on disk.
func ExampleCompile() {
	_, out, err := compiler.Compile("mesh.yaml", []byte(exampleMesh))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range out.Files {
		fmt.Println(f.Path)
	}
	// Output:
	// PLAN.md
	// cluster1/install/eastwest-gateway.yaml
	// cluster1/install/istio.yaml
	// cluster1/manifests/expose-istiod.yaml
	// cluster1/manifests/kustomization.yaml
	// cluster1/manifests/namespace.yaml
	// cluster2/install/istio.yaml
	// cluster2/manifests/kustomization.yaml
	// cluster2/manifests/namespace.yaml
	// mesh.svg
	// plan.sh
}

// Problems carry the position of the value at fault; callers print them or
// inspect the fields.
func ExampleProblems() {
	bad := []byte(exampleMesh[:len(exampleMesh)-len("      controlPlane: cluster1\n")])
	_, err := compiler.Vet("mesh.yaml", bad)
	if ps, ok := err.(diag.Problems); ok {
		for _, p := range ps {
			fmt.Printf("line %d, rule %s: %s\n", p.Pos.Line, p.Rule, p.Path)
		}
	}
	// Output:
	// line 18, rule MC005: spec.clusters[1]
}
