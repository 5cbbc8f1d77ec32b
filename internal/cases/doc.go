// Package cases reads the txtar archives meshc's tests keep their cases in:
// an invalid input and the problems it gives (compiler/testdata/invalid),
// two revisions of a mesh and their change plan (testdata/changes), the
// Mesh files of federated peers and what vetting them together reports
// (testdata/peers).
//
// In: a directory or an archive. Out: each case's comment (what it checks),
// its input sections in order and its last section, want, which holds what
// meshc must produce for them. Rewrite replaces want and leaves every other
// byte as it was.
//
// It imports no testing, so the doc generator, which takes the rule
// catalogue's examples from the invalid cases, links no test code; the
// compare-or-update step for tests is internal/golden's.
package cases
