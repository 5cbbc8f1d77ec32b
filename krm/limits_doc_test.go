package krm_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"meshc.dev/meshc/krm"
)

// TestGuaranteesDocLimits keeps meshc fn's rows of the limits table of
// docs/guarantees.md equal to the constants they name.
func TestGuaranteesDocLimits(t *testing.T) {
	doc, err := os.ReadFile("../docs/guarantees.md")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"krm.MaxInputSize": fmt.Sprintf("%d MiB of ResourceList", krm.MaxInputSize>>20),
		"krm.MaxNodes":     fmt.Sprintf("%d YAML nodes, counted before parsing", krm.MaxNodes),
		"krm.MaxResources": fmt.Sprintf("%d resources", krm.MaxResources),
	} {
		if row := fmt.Sprintf("| `%s` | %s |", name, want); !strings.Contains(string(doc), row) {
			t.Errorf("docs/guarantees.md has no row %q", row)
		}
	}
}
