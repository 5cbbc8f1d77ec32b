// Package compiler runs meshc's pipeline as one call: one Mesh document in,
// every file each cluster of a multicluster Istio mesh needs (and each group
// of virtual machines joining it) out, all but the bootstrap token, which
// the install plan mints.
//
// The pipeline is four steps, each a package usable on its own:
//
//	mesh.Load       bytes of a Mesh YAML document -> *mesh.Mesh (schema-checked, defaults applied)
//	rules.Validate  *mesh.Mesh -> diag.Problems (cross-cluster rules the schema cannot express)
//	render.Render   *mesh.Mesh -> *output.Output (in-memory file tree, deterministic)
//	output.Write    *output.Output -> directory (atomically replaced)
//
// Vet is Load and Validate, what `meshc vet` does; Compile adds Render. The
// CLI, the kustomize function and the pre-commit hooks all go through them.
// Every problem a user can cause is a diag.Problem carrying the file, line
// and column of the value at fault; Load and Validate report all of them at
// once.
package compiler
