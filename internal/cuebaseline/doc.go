// Package cuebaseline is the yardstick meshc's benchmarks compare against: the
// naive way of doing meshc's job, with CUE comprehensions evaluated over the
// whole mesh the way `cue export` evaluates a configuration.
//
// In: the bytes of a Mesh document. Out: for each cluster its namespace, its
// control plane and east-west gateway IstioOperators and (on primaries of
// multi-network meshes) the cross-network Gateway, with the same paths and
// the same content meshc renders, plus one `istioctl create-remote-secret`
// line per primary and other cluster, as in meshc's plan. The CUE program is
// baseline.cue; it unifies the input with meshc's own schema first, as a CUE
// user would.
//
// It is benchmark code, not part of meshc: it reports CUE's errors as they
// come and handles only the names the synthetic meshes use.
package cuebaseline
