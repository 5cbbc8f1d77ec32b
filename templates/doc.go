// Package templates holds the manifests meshc writes, as text/template files
// embedded in the binary, so what a cluster receives can be read and reviewed
// as YAML rather than reconstructed from Go code.
//
// In: a per-cluster view built by the compiler (see compiler.clusterView).
// Out: the parsed template set; each file is one template named after it.
package templates
