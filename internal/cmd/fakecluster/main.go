// Command fakecluster is kubectl, istioctl or helm, by the name it is run
// as, over the fake clusters of package fakecluster: tests link the three
// names to it and run plans with bash.
package main

import (
	"os"
	"path/filepath"

	"meshc.dev/meshc/internal/fakecluster"
)

func main() {
	os.Exit(fakecluster.Main(filepath.Base(os.Args[0]), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
