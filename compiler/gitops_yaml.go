package compiler

import (
	"fmt"
	"math"

	yamlv2 "go.yaml.in/yaml/v2"
)

// marshalYAML writes o as sigs.k8s.io/yaml.Marshal would, byte for byte
// (TestGitOpsMarshalLikeSigsYAML), without its detour: sigs.k8s.io/yaml
// encodes to JSON and parses that JSON back with the YAML parser before
// emitting, which was nine tenths of a 1000-cluster GitOps render (1.5 s).
// The detour only normalises types, as normalize does here: integral
// numbers become ints, slices and maps become YAML's generic ones.
func marshalYAML(o obj) ([]byte, error) {
	v, err := normalize(o)
	if err != nil {
		return nil, err
	}
	return yamlv2.Marshal(v)
}

func normalize(v any) (any, error) {
	switch v := v.(type) {
	case nil, string, bool, int, int64:
		return v, nil
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return int64(v), nil
		}
		return v, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case []any:
		return normalizeSlice(v)
	case []string:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = e
		}
		return out, nil
	case []obj:
		out := make([]any, len(v))
		for i, e := range v {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	}
	return nil, fmt.Errorf("marshalling %T: not a JSON value", v)
}

func normalizeSlice(v []any) (any, error) {
	out := make([]any, len(v))
	for i, e := range v {
		n, err := normalize(e)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}
