package rules_test

import (
	"strings"
	"testing"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/internal/cases"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/rules"
)

// TestSuggestionsAreData: wherever Load or a rule offers what the input
// most likely meant, the problem carries it as Suggestion, not only in its
// words, in every invalid case.
func TestSuggestionsAreData(t *testing.T) {
	invalid, err := cases.ReadDir("../compiler/testdata/invalid")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, c := range invalid {
		in := c.Inputs[0]
		m, err := mesh.Load(in.Name, in.Data)
		ps, _ := err.(diag.Problems)
		if err == nil {
			ps = rules.Validate(m)
		}
		for _, p := range ps {
			if strings.Contains(p.Message, "did you mean") {
				t.Errorf("%s: the suggestion is in the words only: %s", c.Name(), p)
			}
			if p.Suggestion != "" {
				found++
			}
		}
	}
	if found < 5 {
		t.Errorf("only %d problems with a suggestion in the invalid cases", found)
	}
}
