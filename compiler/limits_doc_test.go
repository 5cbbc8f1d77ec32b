package compiler_test

import (
	"fmt"
	"strings"
	"testing"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
)

// TestGuaranteesDocLimits keeps the limits table of docs/guarantees.md equal
// to the constants it names.
func TestGuaranteesDocLimits(t *testing.T) {
	doc := string(mustRead(t, "../docs/guarantees.md"))
	for name, want := range map[string]string{
		"mesh.MaxInputSize":     fmt.Sprintf("%d MiB", mesh.MaxInputSize>>20),
		"mesh.MaxDepth":         fmt.Sprintf("%d levels", mesh.MaxDepth),
		"mesh.MaxKeys":          fmt.Sprintf("%d keys in one mapping", mesh.MaxKeys),
		"mesh.MaxKeysTotal":     fmt.Sprintf("%d keys in the document", mesh.MaxKeysTotal),
		"mesh.MaxItems":         fmt.Sprintf("%d items in one list", mesh.MaxItems),
		"mesh.MaxItemsTotal":    fmt.Sprintf("%d items in all lists", mesh.MaxItemsTotal),
		"mesh.MaxNodes":         fmt.Sprintf("%d YAML nodes, counted before parsing", mesh.MaxNodes),
		"mesh.MaxRemoteSecrets": fmt.Sprintf("%d remote secrets", mesh.MaxRemoteSecrets),
	} {
		if row := fmt.Sprintf("| `%s` | %s |", name, want); !strings.Contains(doc, row) {
			t.Errorf("docs/guarantees.md has no row %q", row)
		}
	}
	for _, s := range []string{
		fmt.Sprintf("at most %d problems are reported (`mesh.MaxProblems`)", mesh.MaxProblems),
		fmt.Sprintf("cut after %d characters", diag.MaxValueLen),
		fmt.Sprintf("stop after %s (\"and N more\")", map[int]string{10: "ten"}[diag.MaxListed]),
	} {
		if !strings.Contains(doc, s) {
			t.Errorf("docs/guarantees.md does not say %q", s)
		}
	}
}
