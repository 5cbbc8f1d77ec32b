package schema_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/encoding/jsonschema"
	"cuelang.org/go/encoding/yaml"

	"github.com/google/go-cmp/cmp"

	"meshc.dev/meshc/schema"
)

// TestJSONSchemaCommitted keeps schema/mesh.schema.json, which editors
// reference by path or URL, identical to what the CUE schema generates.
// MESHC_UPDATE=1 go test ./... regenerates it.
func TestJSONSchemaCommitted(t *testing.T) {
	got, err := schema.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	const file = "mesh.schema.json"
	if os.Getenv("MESHC_UPDATE") != "" {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s is stale (-committed +generated); run MESHC_UPDATE=1 go test ./... and review the diff:\n%s", file, diff)
	}
}

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
	check := func(name string) error {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
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
		if err := check(ex); err != nil {
			t.Errorf("%s: rejected by the JSON Schema: %v", ex, err)
		}
	}
	for _, name := range []string{"schema-enum.yaml", "schema-kind.yaml", "schema-missing.yaml", "schema-names.yaml",
		"schema-types.yaml", "schema-unknown-field.yaml", "schema-version.yaml"} {
		if err := check(filepath.Join("../compiler/testdata/invalid", name)); err == nil {
			t.Errorf("%s: accepted by the JSON Schema, rejected by meshc", name)
		}
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
		"items": true, "prefixItems": true, "minItems": true,
		"enum": true, "const": true, "pattern": true, "allOf": true, "anyOf": true,
		"default": true,
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
				case "properties", "$defs":
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
