// Command bench is `make bench`: it measures meshc on synthetic meshes of 3
// to 1000 clusters and prints one report, with meshc's performance targets
// (internal/cmd/bench/README.md) checked against it.
//
// In: the module's source (run it from the module root). Out: on stdout, the
// machine, the Go benchmarks' medians (time, allocations, bytes allocated)
// for check, render, and the naive CUE baseline on the same input in the same
// run, then whole-process runs of the built meshc binary (wall time, CPU time,
// peak RSS from getrusage) and the targets. Progress goes to stderr.
//
// It runs the compiler package's benchmarks (compiler/bench_test.go) as a
// test binary rather than re-implementing them, and evaluates the CUE baseline
// in a child process of itself (-cuebaseline FILE) to measure its peak RSS.
package main
