// Package meshgen builds synthetic Mesh documents of any size, for the
// benchmarks that show how meshc scales with the number of clusters and
// with each other input dimension, and pairs of federated meshes drawn from
// a seed (Peers), for the conformance suite's property tests.
//
// In: a Shape (topology and cluster count), a Dimension and its size, or a
// seed. Out: the bytes of a valid Mesh YAML document (two, for a seed: a
// federated pair), the same bytes on every call, laid out the way a person
// would write the file (one cluster per block; Dimensions use flow style
// where it keeps the file small).
package meshgen
