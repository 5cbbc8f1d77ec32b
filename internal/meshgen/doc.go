// Package meshgen builds synthetic Mesh documents of any size, for the
// benchmarks that show how meshc scales with the number of clusters and
// with each other input dimension.
//
// In: a Shape (topology and cluster count), or a Dimension and its size.
// Out: the bytes of a valid Mesh YAML document, the same bytes on every
// call, laid out the way a person would write the file (one cluster per
// block; Dimensions use flow style where it keeps the file small).
package meshgen
