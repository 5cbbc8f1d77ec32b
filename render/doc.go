// Package render is meshc's Render step: a valid Mesh to the files that
// install it, in memory.
//
// In: a *mesh.Mesh that passed rules.Validate. Out: an *output.Output, the
// whole tree sorted by path, byte-identical from run to run: no cluster,
// network or clock is consulted. Catalogue is the table of every file meshc
// writes, each with its scope (per cluster, per VM group, per primary and
// cluster it reads, per mesh); a per-cluster row also says which clusters
// get it, the plan phase and how the plan applies it. Render, the plan,
// change plans, GitOps, the kustomize function and the conformance suite
// all read it, and docs/output.md's file table is generated from it.
// Templates see a cluster through a view (view.go) that adds to its
// mesh.Placement what rendering derives, and the documents several clusters
// share are rendered once per Render.
//
// BuildPlan orders the install's commands in phases and RenderPlan writes
// them as PLAN.md, plan.sh or JSON; BuildChangePlan gives the steps that
// take a running mesh from one Mesh to another. With spec.gitops, Render
// also writes gitops/, the mesh as Argo CD or Flux objects in the plan's
// order (GitOpsUnits). Diagram draws the mesh; PeerEntry writes it as the
// entry a federated peer lists.
package render
