package krm

import (
	"strings"
	"testing"
)

// TestReadInputAliases: an item may alias its own anchors, which travel
// with it; an alias of an anchor outside the item (another item, the
// envelope, functionConfig) is refused, as the output would hold it alone.
func TestReadInputAliases(t *testing.T) {
	const head = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"
	for _, c := range []struct{ name, in, err string }{
		{"own anchor", "items:\n- kind: A\n  metadata: {name: a, labels: &l {x: y}, annotations: *l}\n", ""},
		{"own anchor deeper", "items:\n- kind: A\n  spec: [&v 1, {n: *v}]\n", ""},
		{"envelope anchor", "x: &l {x: y}\nitems:\n- kind: A\n  metadata: {labels: *l}\n", "items[0] (line 6) uses the alias *l"},
		{"another item's anchor", "items:\n- kind: A\n  metadata: {labels: &l {x: y}}\n- kind: B\n  metadata: {labels: *l}\n", "items[1] (line 7) uses the alias *l"},
		{"functionConfig anchor", "functionConfig: {kind: Mesh, spec: &s {a: b}}\nitems:\n- kind: A\n  spec: *s\n", "items[0] (line 6) uses the alias *s"},
		{"an item that is an alias", "x: &i {kind: A}\nitems:\n- *i\n", "items[0] (line 5) uses the alias *i"},
	} {
		_, err := readInput(strings.NewReader(head + c.in))
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.err)
		}
	}
}
