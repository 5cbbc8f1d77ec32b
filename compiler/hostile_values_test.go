package compiler_test

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"

	"go.yaml.in/yaml/v3"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
)

// The hostile-value tests start from richMeshes: valid meshes that between
// them set every field of the schema, with plain markers where a user may
// write free text (contexts, API servers, the Git repository and revision,
// a probe's path, labels, annotations). The tests replace the markers with
// hostile values, or insert hostile characters into every field.
var richMeshes = []string{
	"testdata/hostile/rich-istioctl.yaml",
	"testdata/hostile/rich-argocd.yaml",
	"testdata/hostile/rich-flux.yaml",
	"testdata/hostile/rich-ambient.yaml",
	"testdata/hostile/rich-canary.yaml",
	"testdata/hostile/rich-rootmove.yaml",
}

// annotationsPath is the one field whose text Load does not check: meshc
// carries annotations for kustomize (whose own hold newlines) and never
// writes them out (TestInvisibleCharacters proves the second half).
const annotationsPath = "metadata.annotations.*"

// schemaStrings lists every field of the Mesh that holds a string, as
// normalised paths ("spec.clusters[].context"); a map's values are "m.*",
// its keys "m.<key>". It reads the Go model, which TestModelMatchesSchema
// keeps equal to the schema, so a new string field of the schema is here.
func schemaStrings() (fields, maps map[string]bool) {
	fields, maps = map[string]bool{}, map[string]bool{}
	var walk func(t reflect.Type, path string)
	walk = func(t reflect.Type, path string) {
		switch t.Kind() {
		case reflect.Pointer:
			walk(t.Elem(), path)
		case reflect.String:
			fields[path] = true
		case reflect.Slice:
			walk(t.Elem(), path+"[]")
		case reflect.Map:
			maps[path] = true
			fields[path+".*"], fields[path+".<key>"] = true, true
		case reflect.Struct:
			for f := range t.Fields() {
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if name == "" || name == "-" || !f.IsExported() {
					continue
				}
				walk(f.Type, strings.TrimPrefix(path+"."+name, "."))
			}
		}
	}
	walk(reflect.TypeFor[mesh.Mesh](), "")
	return fields, maps
}

// scalar is a scalar of a Mesh document with its data path and its
// normalised path (see schemaStrings).
type scalar struct {
	n          *yaml.Node
	path, norm string
	key        bool // n is a mapping key; path is the mapping's
}

// scalars lists the scalars of doc in document order.
func scalars(doc *yaml.Node, maps map[string]bool) []scalar {
	var out []scalar
	var walk func(n *yaml.Node, path, norm string)
	walk = func(n *yaml.Node, path, norm string) {
		switch n.Kind {
		case yaml.DocumentNode:
			walk(n.Content[0], path, norm)
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i), norm+"[]")
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				sub, subNorm := joinKey(path, k.Value), strings.TrimPrefix(norm+"."+k.Value, ".")
				if maps[norm] {
					out = append(out, scalar{n: k, path: path, norm: norm + ".<key>", key: true})
					subNorm = norm + ".*"
				}
				walk(v, sub, subNorm)
			}
		case yaml.ScalarNode:
			out = append(out, scalar{n: n, path: path, norm: norm})
		}
	}
	walk(doc, "", "")
	return out
}

// joinKey is the path of key in the mapping at path, as problems spell it:
// a key that is not a plain word is quoted.
func joinKey(path, key string) string {
	if key == "" || len(key) > diag.MaxValueLen || strings.ContainsAny(key, ".[]\"") ||
		strings.IndexFunc(key, func(r rune) bool { return mesh.UnsafeRune(r) || unicode.IsSpace(r) }) >= 0 {
		return path + "[" + diag.Quote(key) + "]"
	}
	return strings.TrimPrefix(path+"."+key, ".")
}

// parseMesh reads a Mesh file as a YAML node tree.
func parseMesh(t testing.TB, file string) *yaml.Node {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return &doc
}

// encodeYAML writes doc back as YAML; then every mark in it is replaced by
// its text (so a test can spell a value with YAML escapes, which the
// encoder would not choose).
func encodeYAML(t testing.TB, doc *yaml.Node, marks map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, m := range slices.Sorted(func(yield func(string) bool) {
		for m := range marks {
			if !yield(m) {
				return
			}
		}
	}) {
		if !strings.Contains(out, m) {
			t.Fatalf("mark %s not in the encoded document", m)
		}
		out = strings.ReplaceAll(out, m, marks[m])
	}
	return []byte(out)
}

// yamlEscape spells r as a YAML double-quoted escape.
func yamlEscape(r rune) string {
	if r > 0xffff {
		return fmt.Sprintf(`\U%08X`, r)
	}
	return fmt.Sprintf(`\u%04X`, r)
}
