// Package mesh is meshc's model: the Mesh document and every fact computed
// from it alone.
//
// In: the bytes of one Mesh YAML document (Load) or its file (LoadFile).
// Out: a *Mesh, checked against the embedded CUE schema (schema/mesh.cue)
// with its defaults applied, or diag.Problems, all of them at once, each at
// the file, line and column of the value at fault. Before CUE sees the
// input, Load bounds it (limits.go), checks its bytes (input.go) and its
// YAML (yamlcheck.go); beside the schema it walks the input for unknown and
// missing fields (structure.go) and words CUE's errors as meshc's
// (cueerrors.go).
//
// The facts are derived once, at Load, and offered as methods: which
// primary serves which remote and whether the mesh spans networks
// (topology.go, Placement: one cluster's place in its mesh), what shared
// namespaces and services mean per cluster (sharing.go), what crosses to
// federated peers (federation.go), which VM groups register where (vm.go),
// what differs between the Istio releases meshc targets (versions.go). The
// rules, the renderer and the conformance suite all read them here, so no
// two of them decide a fact differently.
//
// The package runs no template and touches no file system beyond reading
// its input: what is written, and how, is render's and output's.
package mesh
