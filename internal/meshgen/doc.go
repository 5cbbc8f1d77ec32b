// Package meshgen builds synthetic Mesh documents of any size, for the
// benchmarks that show how meshc scales with the number of clusters.
//
// In: a Shape (topology and cluster count). Out: the bytes of a valid Mesh
// YAML document, the same bytes for the same Shape on every call, laid out
// the way a person would write the file (one cluster per block).
package meshgen
