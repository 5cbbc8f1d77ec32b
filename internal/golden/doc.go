// Package golden is the one compare-or-update helper of meshc's tests.
//
// In: what a test produced (a file's bytes, a rendered tree, the problems an
// invalid input gives). Out: a test failure with a go-cmp diff against the
// committed file, or, when MESHC_UPDATE is set in the environment, the
// committed file rewritten. The same switch works in every package:
//
//	MESHC_UPDATE=1 go test ./...
//
// Invalid-input cases are txtar archives (see ReadCases) that keep the input
// and the problems meshc must report for it side by side.
package golden
