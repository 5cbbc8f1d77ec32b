// Package krm runs meshc as a KRM function: the kustomize / kpt function
// protocol, where a ResourceList comes in on stdin and goes out on stdout.
//
// What goes in: a ResourceList whose functionConfig is a Mesh document with
// the annotation meshc.dev/cluster naming one of its clusters. The Mesh goes
// through the same pipeline as `meshc render` (compiler.Compile); nothing is
// re-implemented here.
//
// What comes out: the input items, unchanged, followed by that cluster's
// kubectl-appliable resources (the files of <cluster>/manifests/ that `meshc
// render` writes, in their kustomization's order, without the
// kustomization.yaml itself). Each generated resource carries kustomize's
// path and index annotations, <dir of the Mesh>/<cluster>/manifests/<file>,
// so `kustomize fn run` writes the files where `meshc render` would, and an
// input item already at one of those paths is replaced rather than
// duplicated.
//
// An invalid Mesh gives no resources: the ResourceList comes back with its
// items unchanged and one result per problem (severity error, the Mesh as
// resourceRef, the field path, the file when the function runner recorded
// one, the rule ID as a tag), and Run returns the results as an error.
// Results carry no line or column: the function sees the Mesh as the
// runner re-serialised it, so positions in that text would not point into
// the user's file. `meshc vet` on the file gives line and column.
//
// Memory stays bounded for any input: the ResourceList is read up to
// MaxInputSize, refused before it is parsed when its YAML tree may pass
// MaxNodes, parsed once, and refused past MaxResources items; the items
// are written back without a copy.
package krm
