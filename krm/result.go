package krm

import (
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Severities of a Result, as the KRM function specification spells them.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
	SeverityInfo    = "info"
)

// Result is one entry of a ResourceList's results, in the shape the KRM
// function specification gives it (and kyaml's fn/framework uses). meshc
// defines its own rather than import fn/framework, which would pull
// kustomize's embedded OpenAPI documents into the binary.
type Result struct {
	Message     string                   `yaml:"message" json:"message"`
	Severity    string                   `yaml:"severity,omitempty" json:"severity,omitempty"`
	ResourceRef *yaml.ResourceIdentifier `yaml:"resourceRef,omitempty" json:"resourceRef,omitempty"`
	Field       *Field                   `yaml:"field,omitempty" json:"field,omitempty"`
	File        *File                    `yaml:"file,omitempty" json:"file,omitempty"`
	// Tags holds the compiler's rule ID under "rule", for cross-cluster
	// rule violations.
	Tags map[string]string `yaml:"tags,omitempty" json:"tags,omitempty"`
}

// Field points at a field of the resource a result is about.
type Field struct {
	// Path is the field path, as spec.clusters[1].role.
	Path string `yaml:"path" json:"path"`
}

// File is the file a resource was read from, relative to the function
// runner's root, and the resource's index within it.
type File struct {
	Path  string `yaml:"path" json:"path"`
	Index int    `yaml:"index,omitempty" json:"index,omitempty"`
}

// String formats the result for a terminal: where, what, and the rule, as
// "base/mesh.yaml: spec.clusters[1].role: must be ... [MC004]". Under
// kustomize build this is all the user sees, since kustomize shows an
// exec function's stderr but not its results.
func (r Result) String() string {
	var b strings.Builder
	switch {
	case r.File != nil && r.File.Path != "":
		b.WriteString(r.File.Path)
		b.WriteString(": ")
	case r.ResourceRef != nil:
		b.WriteString(r.ResourceRef.Kind)
		if r.ResourceRef.Name != "" {
			b.WriteString(" " + r.ResourceRef.Name)
		}
		b.WriteString(": ")
	}
	if r.Field != nil && r.Field.Path != "" {
		b.WriteString(r.Field.Path)
		b.WriteString(": ")
	}
	b.WriteString(r.Message)
	if rule := r.Tags["rule"]; rule != "" {
		b.WriteString(" [" + rule + "]")
	}
	return b.String()
}

// Results is every result of one run. It is an error when any result is
// an error, so Run can return it and the CLI can exit non-zero.
type Results []Result

// Error lists the results, one per line.
func (rs Results) Error() string {
	lines := make([]string, len(rs))
	for i, r := range rs {
		lines[i] = r.String()
	}
	return strings.Join(lines, "\n")
}

// Err returns rs as an error when it holds an error result, else nil.
func (rs Results) Err() error {
	for _, r := range rs {
		if r.Severity == SeverityError {
			return rs
		}
	}
	return nil
}

func (rs Results) node() (*yaml.RNode, error) {
	b, err := yaml.Marshal([]Result(rs))
	if err != nil {
		return nil, err
	}
	return yaml.Parse(string(b))
}
