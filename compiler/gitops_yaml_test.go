package compiler

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

// TestGitOpsMarshalLikeSigsYAML: marshalYAML writes what sigs.k8s.io/yaml
// writes, for every object of the GitOps examples and for values that
// type conversion could change.
func TestGitOpsMarshalLikeSigsYAML(t *testing.T) {
	objs := []obj{{
		"ints": []any{0, 1, -1, 15443, int64(1) << 40}, "floats": []any{1.5, 1e6, -2.0, 1e21, 0.1},
		"strings": []string{"true", "no", "0", "", "1.28.0", "a: b", "$values/x", "- x", "null", "~"},
		"bools":   []any{true, false}, "nil": nil, "empty": obj{}, "emptyList": []any{}, "nested": []obj{{"a": obj{"b": []string{"c"}}}},
	}}
	examples, _ := filepath.Glob("../examples/gitops-*/mesh.yaml")
	for _, ex := range examples {
		m, err := LoadFile(ex)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Render(m)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range out.Files {
			if !strings.HasPrefix(f.Path, GitOpsDir+"/") || !strings.HasSuffix(f.Path, ".yaml") {
				continue
			}
			for _, doc := range bytes.Split(f.Data, []byte("\n---\n")) {
				var o obj
				if err := yaml.Unmarshal(doc, &o); err != nil {
					t.Fatalf("%s: %v", f.Path, err)
				}
				objs = append(objs, o)
			}
		}
	}
	if len(objs) < 20 {
		t.Fatalf("only %d objects", len(objs))
	}
	for _, o := range objs {
		want, err := yaml.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		got, err := marshalYAML(o)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("marshalYAML differs from sigs.k8s.io/yaml (-want +got):\n%s", diff)
		}
	}
}
