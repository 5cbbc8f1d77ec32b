package compiler_test

import (
	"slices"
	"strings"
	"testing"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/internal/golden"
	"meshc.dev/meshc/internal/meshgen"
	"meshc.dev/meshc/internal/yamlbound"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/render"
	"meshc.dev/meshc/rules"
)

// invalidDir holds one txtar case per invalid input: the input and the exact
// problems meshc must report for it (position, field path, message, rule ID).
// Every schema class and every rule in rules.Rules has at least one case
// (TestEveryRuleHasANegativeCase enforces the latter). MESHC_UPDATE=1
// rewrites the expected problems; review the diff.
const invalidDir = "testdata/invalid"

func invalidCases(t testing.TB) []*golden.Case {
	t.Helper()
	cases, err := golden.ReadCases(invalidDir)
	if err != nil || len(cases) == 0 {
		t.Fatalf("reading %s: %v (%d cases)", invalidDir, err, len(cases))
	}
	return cases
}

func TestInvalidInputs(t *testing.T) {
	for _, c := range invalidCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			_, _, err := compiler.Compile(c.Name, c.Input)
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if len(got) == 0 {
				t.Errorf("%s compiles; an invalid case must fail", c.Path)
			}
			c.Check(t, got)
		})
	}
}

func TestEveryRuleHasANegativeCase(t *testing.T) {
	cases := invalidCases(t)
	// Rules across Mesh files (MC049) have their cases in testdata/peers;
	// the rules of change plans (MC078–MC083, MC096–MC099), refused revision
	// pairs in testdata/changes.
	acrossFiles := peerCaseRules(t) + changeCaseRules(t)
	for _, r := range rules.Rules {
		if r.Retired != "" {
			continue // TestRetiredRulesNeverReport
		}
		found := strings.Contains(acrossFiles, "["+r.ID+"]\n")
		for _, c := range cases {
			for _, line := range c.Want {
				found = found || strings.HasSuffix(line, "["+r.ID+"]")
			}
		}
		if !found {
			t.Errorf("rule %s (%s) has no case in %s", r.ID, r.Name, invalidDir)
		}
	}
}

// TestLimits covers input too big to keep under testdata: the size bound,
// nesting beyond what the YAML parser itself accepts, and the bounds on the
// document as a whole.
func TestLimits(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"large.yaml", []byte("# " + strings.Repeat("x", mesh.MaxInputSize)),
			"large.yaml:1:1: input exceeds 4194304 bytes (4 MiB), the most meshc reads; a Mesh document is far smaller"},
		{"flow.yaml", []byte(strings.Repeat("[", 20000) + strings.Repeat("]", 20000)),
			"flow.yaml:1:1: input nests more than 32 levels deep; no Mesh document nests that deep"},
		// One byte a node: four megabytes would be a gigabyte of tree.
		{"dense.yaml", []byte("{" + strings.Repeat("a,", mesh.MaxNodes/2) + "a}"),
			"dense.yaml:1:1: input may hold up to 524295 YAML nodes (keys, values and list items, counted before parsing); meshc reads at most 524288 (MaxNodes)"},
		// Lists of lists, each under MaxItems: CUE took minutes on 800,000 items.
		{"lists.yaml", []byte("kind: Mesh\nspec:\n  x: [" + strings.Repeat("["+strings.Repeat("1,", mesh.MaxItems-1)+"1],", 20) + "[1]]\n"),
			"lists.yaml:3:190045: spec.x[19]: document has more than 100000 list items (MaxItemsTotal); each list may hold 5000, but not all together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mesh.Load(tt.name, tt.data)
			if err == nil || err.Error() != tt.want {
				t.Errorf("got  %v\nwant %s", err, tt.want)
			}
		})
	}
}

// TestLargestMeshesFitTheLimits: the limits on the document as a whole leave
// room for the largest meshes the benchmarks build, four times over, and
// for every input dimension they grow.
func TestLargestMeshesFitTheLimits(t *testing.T) {
	for _, s := range []meshgen.Shape{
		{Topology: meshgen.PrimaryRemote, Clusters: mesh.MaxItems - 1},
		{Topology: meshgen.MultiPrimary, Clusters: 1000},
		{Topology: meshgen.MultiPrimary, Clusters: 300, Services: 200, VMGroups: 500},
	} {
		if n := yamlbound.Nodes(meshgen.Generate(s)); n > mesh.MaxNodes/4 {
			t.Errorf("%v counts %d YAML nodes, more than a quarter of MaxNodes (%d)", s, n, mesh.MaxNodes)
		}
	}
	// The benchmarks' input dimensions at their largest stay under them too.
	for _, d := range meshgen.Dimensions {
		n := d.Sizes[len(d.Sizes)-1]
		if got := yamlbound.Nodes(d.Generate(n)); got > mesh.MaxNodes {
			t.Errorf("dimension %s at %d counts %d YAML nodes, more than MaxNodes (%d)", d.Name, n, got, mesh.MaxNodes)
		}
	}
}

// TestChangeRulesAreRules: every rule a change plan's refusal names is a
// row of the rule table (render cannot import rules, the Validate step).
func TestChangeRulesAreRules(t *testing.T) {
	for id, name := range map[string]string{
		render.ChangeIdentityRule: "change-identity", render.ChangeContextRule: "change-context",
		render.ChangeInstallerRule: "change-installer", render.ChangeCARule: "change-ca",
	} {
		i := slices.IndexFunc(rules.Rules, func(r rules.Rule) bool { return r.ID == id })
		if i < 0 || rules.Rules[i].Name != name {
			t.Errorf("render refuses changes under %s (%s), which is not that row of the rule table", id, name)
		}
	}
}
