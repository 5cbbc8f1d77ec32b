package certs_test

import (
	"fmt"
	"os"
	"path/filepath"

	"meshc.dev/meshc/certs"
)

// Generate creates the shared root on the first run and one intermediate per
// cluster; Check then finds nothing wrong. Events name paths only.
func ExampleGenerate() {
	tmp, err := os.MkdirTemp("", "meshc-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "certs")

	res, err := certs.Generate(certs.Options{Mesh: "demo", Dir: dir, Clusters: []string{"cluster1", "cluster2"}, KeyBits: 2048})
	if err != nil {
		panic(err)
	}
	for _, ev := range res.Events {
		rel, _ := filepath.Rel(tmp, ev.Path)
		fmt.Println(ev.Status, filepath.ToSlash(rel))
	}
	findings, err := certs.Verify(certs.VerifyOptions{Dir: dir, Clusters: []string{"cluster1", "cluster2"}})
	if err != nil {
		panic(err)
	}
	fmt.Println(len(findings), "findings")
	// Output:
	// created certs/root-cert.pem
	// created certs/cluster1
	// created certs/cluster2
	// 0 findings
}
