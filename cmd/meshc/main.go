// Command meshc compiles one Mesh document into every file each cluster of a
// multicluster Istio mesh needs. See the README for usage.
package main

import "os"

func main() { os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr)) }
