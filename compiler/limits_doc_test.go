package compiler_test

import (
	"fmt"
	"strings"
	"testing"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/diag"
)

// TestGuaranteesDocLimits keeps the limits table of docs/guarantees.md equal
// to the constants it names.
func TestGuaranteesDocLimits(t *testing.T) {
	doc := string(mustRead(t, "../docs/guarantees.md"))
	for name, want := range map[string]string{
		"compiler.MaxInputSize":     fmt.Sprintf("%d MiB", compiler.MaxInputSize>>20),
		"compiler.MaxDepth":         fmt.Sprintf("%d levels", compiler.MaxDepth),
		"compiler.MaxKeys":          fmt.Sprintf("%d keys in one mapping", compiler.MaxKeys),
		"compiler.MaxKeysTotal":     fmt.Sprintf("%d keys in the document", compiler.MaxKeysTotal),
		"compiler.MaxItems":         fmt.Sprintf("%d items in one list", compiler.MaxItems),
		"compiler.MaxItemsTotal":    fmt.Sprintf("%d items in all lists", compiler.MaxItemsTotal),
		"compiler.MaxNodes":         fmt.Sprintf("%d YAML nodes, counted before parsing", compiler.MaxNodes),
		"compiler.MaxRemoteSecrets": fmt.Sprintf("%d remote secrets", compiler.MaxRemoteSecrets),
	} {
		if row := fmt.Sprintf("| `%s` | %s |", name, want); !strings.Contains(doc, row) {
			t.Errorf("docs/guarantees.md has no row %q", row)
		}
	}
	for _, s := range []string{
		fmt.Sprintf("at most %d problems are reported (`compiler.MaxProblems`)", compiler.MaxProblems),
		fmt.Sprintf("cut after %d characters", diag.MaxValueLen),
		fmt.Sprintf("stop after %s (\"and N more\")", map[int]string{10: "ten"}[diag.MaxListed]),
	} {
		if !strings.Contains(doc, s) {
			t.Errorf("docs/guarantees.md does not say %q", s)
		}
	}
}
