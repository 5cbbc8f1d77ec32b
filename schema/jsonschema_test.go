package schema_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/encoding/jsonschema"
	"cuelang.org/go/encoding/yaml"

	"meshc.dev/meshc/schema"

	"meshc.dev/meshc/internal/golden"
)

// TestJSONSchemaMeansTheSame reads the generated JSON Schema back into CUE
// and checks it accepts every example and rejects inputs the CUE schema
// rejects for their shape, so editors flag what meshc flags.
func TestJSONSchemaMeansTheSame(t *testing.T) {
	data, err := schema.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	ctx := cuecontext.New()
	js := ctx.CompileBytes(data)
	f, err := jsonschema.Extract(js, &jsonschema.Config{})
	if err != nil {
		t.Fatal(err)
	}
	def := ctx.BuildFile(f)
	if err := def.Err(); err != nil {
		t.Fatal(err)
	}
	check := func(name string, b []byte) error {
		y, err := yaml.Extract(name, b)
		if err != nil {
			t.Fatal(err)
		}
		return def.Unify(ctx.BuildFile(y)).Validate(cue.Concrete(true))
	}
	examples, _ := filepath.Glob("../examples/*/mesh.yaml")
	if len(examples) == 0 {
		t.Fatal("no examples")
	}
	for _, ex := range examples {
		b, err := os.ReadFile(ex)
		if err != nil {
			t.Fatal(err)
		}
		if err := check(ex, b); err != nil {
			t.Errorf("%s: rejected by the JSON Schema: %v", ex, err)
		}
	}
	cases, err := golden.ReadCases("../compiler/testdata/invalid")
	if err != nil {
		t.Fatal(err)
	}
	tested := 0
	for _, c := range cases {
		// The schema-* cases break only the document's shape, which the
		// JSON Schema must catch too.
		if !strings.HasPrefix(c.Name, "schema-") {
			continue
		}
		tested++
		if err := check(c.Name, c.Input); err == nil {
			t.Errorf("%s: accepted by the JSON Schema, rejected by meshc", c.Path)
		}
	}
	if tested < 7 {
		t.Errorf("only %d schema-* invalid cases", tested)
	}
}

// TestJSONSchemaKeywords keeps the generated schema to keywords that
// draft-07 validators read the same way as 2020-12 ones: the YAML language
// server has long validated with draft-07 rules. prefixItems (2020-12 only)
// is allowed because CUE emits it only next to minItems, which says the same.
func TestJSONSchemaKeywords(t *testing.T) {
	data, err := schema.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{
		"$schema": true, "$defs": true, "$ref": true, "type": true, "description": true,
		"properties": true, "additionalProperties": true, "required": true,
		"items": true, "prefixItems": true, "minItems": true, "minimum": true, "maximum": true,
		"enum": true, "const": true, "pattern": true, "allOf": true, "anyOf": true,
		"default": true,
		// Since draft-04; labels constrain their keys with it.
		"patternProperties": true,
	}
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch v := v.(type) {
		case map[string]any:
			for k, sub := range v {
				if !allowed[k] {
					t.Errorf("%s: keyword %q; check editors (draft-07 validators) understand it, then allow it here", path, k)
				}
				switch k {
				case "properties", "$defs", "patternProperties":
					for name, s := range sub.(map[string]any) {
						walk(s, path+"/"+k+"/"+name)
					}
				case "additionalProperties", "items":
					walk(sub, path+"/"+k)
				case "allOf", "anyOf", "prefixItems":
					for i, s := range sub.([]any) {
						walk(s, fmt.Sprintf("%s/%s/%d", path, k, i))
					}
				}
			}
		}
	}
	walk(doc, "#")
}
