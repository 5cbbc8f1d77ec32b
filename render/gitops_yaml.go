package render

import (
	"sigs.k8s.io/yaml"
)

// marshalYAML writes one GitOps object the way Kubernetes tooling does:
// through sigs.k8s.io/yaml, the marshaller the design names for output built
// from Go values (JSON field rules, sorted keys, no YAML-only types).
func marshalYAML(o obj) ([]byte, error) { return yaml.Marshal(o) }
