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

// VerifyBehaviour checks that a rendered mesh works: nil means every
// sidecar and east-west gateway is sent the endpoints the Mesh promises.
func ExampleVerifyBehaviour() {
	data, err := os.ReadFile("../examples/primary-remote-multi-network/mesh.yaml")
	if err != nil {
		log.Fatal(err)
	}
	m, out, err := compiler.Compile("mesh.yaml", data)
	if err != nil {
		log.Fatal(err)
	}
	tmp, err := os.MkdirTemp("", "meshc-behaviour-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "out")
	if err := output.Write(out, dir); err != nil {
		log.Fatal(err)
	}
	fmt.Println(conformance.VerifyBehaviour(m, dir))
	// Output: <nil>
}
