package mesh

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"cuelang.org/go/cue/cuecontext"

	"meshc.dev/meshc/schema"
)

// TestModelMatchesSchema keeps the Go model one with its source, the CUE
// schema: every field the schema allows has a Go field with the same JSON
// name, and every Go field is in the schema, at every depth. A field added
// to schema/mesh.cue alone fails here (Load would also refuse to decode it;
// see TestLoadRefusesUnknownDecodedField).
func TestModelMatchesSchema(t *testing.T) {
	def, err := schema.Mesh(cuecontext.New())
	if err != nil {
		t.Fatal(err)
	}
	compareModel(t, "#Mesh", newSchemaNode(def), reflect.TypeFor[Mesh]())
}

func compareModel(t *testing.T, path string, n *schemaNode, typ reflect.Type) {
	t.Helper()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch typ.Kind() {
	case reflect.Struct:
		fields, _, ok := n.structFields()
		if !ok {
			t.Errorf("%s: Go has struct %s, the schema no struct", path, typ)
			return
		}
		goFields := jsonFields(typ)
		for _, name := range slices.Sorted(func(yield func(string) bool) {
			for k := range fields {
				if !yield(k) {
					return
				}
			}
		}) {
			f, ok := goFields[name]
			if !ok {
				t.Errorf("%s.%s: in schema/mesh.cue, not in the Go type %s", path, name, typ)
				continue
			}
			compareModel(t, path+"."+name, fields[name], f.Type)
		}
		for name := range goFields {
			if _, ok := fields[name]; !ok {
				t.Errorf("%s.%s: in the Go type %s, not in schema/mesh.cue", path, name, typ)
			}
		}
	case reflect.Slice:
		e := n.element()
		if e == nil {
			t.Errorf("%s: Go has a slice, the schema no list", path)
			return
		}
		compareModel(t, path+"[]", e, typ.Elem())
	case reflect.Map:
		// labels and annotations: [string]: string in the schema.
	default:
		if _, _, ok := n.structFields(); ok {
			t.Errorf("%s: the schema has a struct, Go a %s", path, typ)
		}
	}
}

// jsonFields maps the JSON names of typ's decoded fields to the fields.
func jsonFields(typ reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" || name == "" {
			continue
		}
		out[name] = f
	}
	return out
}

// TestLoadRefusesUnknownDecodedField: a value the schema lets through but
// the Go model does not hold is an internal error, never silently dropped.
func TestLoadRefusesUnknownDecodedField(t *testing.T) {
	var m Mesh
	err := decodeMesh([]byte(`{"apiVersion":"meshc.dev/v1alpha1","kind":"Mesh","metadata":{"name":"a"},"spec":{"meshID":"m","futureField":1}}`), &m)
	if err == nil || !strings.Contains(err.Error(), "futureField") {
		t.Errorf("decodeMesh with a field the Go model lacks: %v, want an error naming it", err)
	}
}
