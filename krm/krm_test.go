package krm_test

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/krm"

	"meshc.dev/meshc/internal/golden"
)

// TestResultsMapProblems runs every invalid input of the compiler's test
// suite through the function and demands one result per problem, in the
// compiler's order, with the same field path, message and rule, severity
// error and the functionConfig as resourceRef, and no line numbers, which would
// point into the runner's copy of the Mesh rather than the user's file.
func TestResultsMapProblems(t *testing.T) {
	cases, err := golden.ReadCases("../compiler/testdata/invalid")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no invalid inputs: %v", err)
	}
	lineNumber := regexp.MustCompile(`\bline \d+`)
	tested := 0
	for _, c := range cases {
		data := c.Input
		if strings.Contains(string(data), "\n---") {
			continue // several documents: a runner passes only the first, so the fault does not survive
		}
		fc, err := yaml.Parse(string(data))
		if err != nil || fc.YNode().Kind != yaml.MappingNode {
			continue // not a document a function runner could pass as functionConfig
		}
		if err := fc.SetAnnotations(map[string]string{krm.ClusterAnnotation: "cluster1"}); err != nil {
			continue // metadata is not a mapping: the runner could not annotate it either
		}
		tested++
		t.Run(c.Name, func(t *testing.T) {
			_, err := compiler.Vet("mesh.yaml", []byte(fc.MustString()))
			ps, ok := err.(diag.Problems)
			if !ok {
				t.Fatalf("compiler.Vet: want Problems, got %v", err)
			}
			items := []*yaml.RNode{yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keep\n")}
			out, results, err := krm.Process(items, fc)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != 1 || out[0] != items[0] {
				t.Errorf("an invalid Mesh must leave the items as they are, got %d items", len(out))
			}
			type entry struct{ Severity, Path, Message, Rule, Kind string }
			var want, got []entry
			for _, p := range ps {
				want = append(want, entry{"error", p.Path, p.Advice(), p.Rule, fc.GetKind()})
			}
			for _, r := range results {
				e := entry{Severity: r.Severity, Message: r.Message, Rule: r.Tags["rule"]}
				if r.Field != nil {
					e.Path = r.Field.Path
				}
				if r.ResourceRef != nil {
					e.Kind = r.ResourceRef.Kind
				}
				if lineNumber.MatchString(r.Message) {
					t.Errorf("result names a line of the runner's copy: %s", r.Message)
				}
				got = append(got, e)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("results do not map the compiler's problems one to one (-problems +results):\n%s", diff)
			}
		})
	}
	if tested < 10 {
		t.Fatalf("only %d invalid inputs could be used as functionConfig", tested)
	}
}

// TestGuaranteesDocLimit keeps docs/guarantees.md's fn limit equal to
// MaxInputSize.
func TestGuaranteesDocLimit(t *testing.T) {
	doc, err := os.ReadFile("../docs/guarantees.md")
	if err != nil {
		t.Fatal(err)
	}
	if row := fmt.Sprintf("| `krm.MaxInputSize` | %d MiB of ResourceList |", krm.MaxInputSize>>20); !strings.Contains(string(doc), row) {
		t.Errorf("docs/guarantees.md has no row %q", row)
	}
}
