package conformance_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/conformance"
	"meshc.dev/meshc/output"
)

// Verify checks what `meshc render` wrote for a Mesh; nil means Istio accepts
// all of it and it has the Mesh's topology.
func ExampleVerify() {
	data, err := os.ReadFile("../examples/primary-remote/mesh.yaml")
	if err != nil {
		log.Fatal(err)
	}
	m, out, err := compiler.Compile("mesh.yaml", data)
	if err != nil {
		log.Fatal(err)
	}
	tmp, err := os.MkdirTemp("", "meshc-conformance-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "out")
	if err := output.Write(out, dir); err != nil {
		log.Fatal(err)
	}
	fmt.Println(conformance.Verify(m, dir))
	// Output: <nil>
}
