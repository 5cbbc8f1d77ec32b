package rules

import (
	"testing"
)

// TestArgoReadsAsRange pins which revisions Argo CD resolves against tags
// (Masterminds' constraint grammar, as argo-cd's resolveSemverRevision
// reads it) and which it looks up as one ref.
func TestArgoReadsAsRange(t *testing.T) {
	for rev, want := range map[string]bool{
		">=1.0": true, "1.x": true, "1.2.X": true, "x": true, "v1.x": true, "!=1.0": true,
		"<2": true, "=1.0": true, ">1,<2": true, "1.0||2.0": true, "=>1.0.0-rc.1": true,
		"main": false, "v1.2.3": false, "1": false, "1.2": false, "1.2.3-rc.1+build.5": false,
		"release-1.0": false, "feature/x": false, "0123abcd": false, "1.x-branch/y": false,
		"1.0||": false, ">": false, "xx": false, "1x": false,
	} {
		if got := argoReadsAsRange(rev); got != want {
			t.Errorf("argoReadsAsRange(%q) = %v, want %v", rev, got, want)
		}
	}
}
