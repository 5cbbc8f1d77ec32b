package compiler_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/render"
	"meshc.dev/meshc/rules"
)

var ruleID = regexp.MustCompile(`\[(MC\d{3})\]$`)

// The installed mesh a change plan starts from may break a Runtime rule:
// every invalid case that breaks only such rules is vetted with exactly its
// problems as warnings, renders, and is a change plan's start (to itself:
// nothing to do). Any other problem still refuses it. This is what lets a
// Runtime rule be added without stranding the meshes installed before it.
func TestInstalledMeshBreaksOnlyRuntimeRules(t *testing.T) {
	runtime := map[string]bool{}
	for _, r := range rules.Rules {
		runtime[r.ID] = r.Runtime
	}
	seen := map[string]bool{}
	for _, c := range invalidCases(t) {
		onlyRuntime := len(c.Want) > 0
		for _, w := range c.Want {
			m := ruleID.FindStringSubmatch(w)
			onlyRuntime = onlyRuntime && m != nil && runtime[m[1]]
		}
		t.Run(c.Name, func(t *testing.T) {
			m, warnings, err := compiler.VetInstalled(c.Name, c.Input)
			if !onlyRuntime {
				if err == nil {
					t.Fatalf("an installed mesh with problems other than Runtime rules' is accepted (warnings %v); want refused with %q", warnings, c.Want)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if got := strings.Split(warnings.Error(), "\n"); !slices.Equal(got, c.Want) {
				t.Errorf("warnings:\n%s\nwant the case's problems:\n%s", strings.Join(got, "\n"), strings.Join(c.Want, "\n"))
			}
			if _, err := render.Render(m); err != nil {
				t.Fatalf("does not render: %v", err)
			}
			p, err := render.BuildChangePlan(m, m, render.ChangeOptions{})
			if err != nil {
				t.Fatalf("no change plan from it: %v", err)
			}
			if len(p.Phases) > 0 {
				t.Errorf("a change plan from the mesh to itself has %d phases, want none", len(p.Phases))
			}
			for _, w := range c.Want {
				seen[ruleID.FindStringSubmatch(w)[1]] = true
			}
		})
	}
	// Every Runtime rule has a case that proves a mesh breaking it renders.
	for _, r := range rules.Rules {
		if r.Runtime && !seen[r.ID] {
			t.Errorf("Runtime rule %s (%s) has no invalid case that breaks only Runtime rules: nothing proves the renderer does without it", r.ID, r.Name)
		}
	}
}
