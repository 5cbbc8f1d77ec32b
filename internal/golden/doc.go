// Package golden is the one compare-or-update helper of meshc's tests.
//
// In: what a test produced (a file's bytes, a rendered tree, the problems an
// invalid input gives). Out: a test failure with a go-cmp diff against the
// committed file, or, when MESHC_UPDATE is set in the environment, the
// committed file rewritten. The same switch works in every package:
//
//	MESHC_UPDATE=1 go test ./...
//
// Cases are txtar archives read by internal/cases, which imports no testing
// so programs (the doc generator) can read them too; Case.Check and Want
// compare a case's want section with what a test produced, or rewrite it.
package golden
