// Package compiler turns one Mesh document into every file each cluster of a
// multicluster Istio mesh needs, and each group of virtual machines joining
// it (all but the bootstrap token, which the install plan mints).
//
// The pipeline is four separate steps, each usable on its own:
//
//	Load     bytes of a Mesh YAML document -> *Mesh (schema-checked, defaults applied)
//	Validate *Mesh -> Problems (cross-cluster rules the schema cannot express)
//	Render   *Mesh -> *Output (in-memory file tree, deterministic)
//	Write    *Output -> directory (atomically replaced)
//
// Every problem a user can cause is a Problem carrying the file, line and
// column of the value at fault; Load and Validate report all of them at once.
//
// A federated mesh's Mesh file names its peers; VetPeers checks the files of
// peers given together against each other, and PeerEntry writes a mesh as
// the peer entry another mesh lists.
//
// With spec.gitops, Render also writes gitops/: the mesh as Argo CD or Flux
// objects. GitOpsUnits derives what the engine applies, and in which order,
// from the artifact table and the plan's phases.
package compiler
