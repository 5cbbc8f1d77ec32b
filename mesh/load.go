package mesh

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/token"
	"cuelang.org/go/encoding/yaml"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/schema"
)

// Load parses data as a Mesh document, checks it against the embedded CUE
// schema and applies the schema's defaults. filename is only used in
// positions. Problems with the input are returned as Problems, all at once
// (up to MaxProblems); a mesh whose plan would pass MaxRemoteSecrets is one.
func Load(filename string, data []byte) (*Mesh, error) {
	m, err := load(filename, data)
	if ps, ok := err.(diag.Problems); ok {
		return nil, LimitProblems(ps)
	}
	if err != nil {
		return nil, err
	}
	if ps := checkPlanSize(m); ps != nil {
		return nil, ps
	}
	return m, nil
}

// MaxInputSize bounds the input Load accepts. A 1000-cluster mesh is about
// 150 KiB; anything near this limit is a mistake, not a mesh.
const MaxInputSize = 4 << 20

// LoadFile reads and loads the Mesh document in the named file.
func LoadFile(name string) (*Mesh, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("reading mesh: %w", err)
	}
	defer f.Close()
	data, err := ReadInput(f)
	if err != nil {
		return nil, err
	}
	return Load(name, data)
}

// ReadInput reads a Mesh document from r, stopping one byte past
// MaxInputSize, so a wrong file (an image, a log) costs neither time nor
// memory; Load then reports the oversized input as a Problem like any other.
// Only a read failure is an error.
func ReadInput(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxInputSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading mesh: %w", err)
	}
	return data, nil
}

// load is Load without the limits on what it reports (limits.go).
func load(filename string, data []byte) (*Mesh, error) {
	if ps := checkBytes(filename, data); ps != nil {
		return nil, ps
	}
	if ps := checkYAML(filename, data); ps != nil {
		ps.Sort()
		return nil, ps
	}
	ctx := cuecontext.New()
	def, err := schema.Mesh(ctx)
	if err != nil {
		return nil, err
	}
	file, err := yaml.Extract(filename, data)
	if err != nil {
		return nil, yamlProblems(filename, err)
	}
	doc := ctx.BuildFile(file)
	if err := doc.Err(); err != nil {
		return nil, fromCUE(err, "")
	}
	if doc.IncompleteKind() != cue.StructKind {
		what := "a list"
		if doc.IncompleteKind() != cue.ListKind {
			what = "a scalar"
		}
		return nil, diag.Problems{{
			Pos:     token.Position{Filename: filename, Line: 1, Column: 1},
			Message: fmt.Sprintf("expected a single Mesh document (a YAML mapping with apiVersion, kind, metadata and spec), found %s", what),
		}}
	}

	var found problemList
	structural(filename, doc, newSchemaNode(def), cue.Path{}, &found)
	if found.full() {
		// Past MaxProblems, CUE's report of them (quadratic in their
		// number) would tell nothing more.
		return nil, found.list()
	}
	ps := found.ps
	unified := def.Unify(doc)
	errs := validate(unified)
	if len(errs) == 0 {
		if err := unified.Validate(cue.Concrete(true), cue.All()); err != nil {
			errs = cueerrors.Errors(err)
		}
	}
	if len(errs) > 0 {
		ps = append(ps, translate(errs, doc, def)...)
		if len(ps) == 0 {
			// Every CUE error was one the structural walk should have named;
			// never let input fail silently.
			ps = fromCUE(errs[0], filename)
		}
	}
	if len(ps) > 0 {
		ps.Sort()
		return nil, ps
	}
	// Through JSON rather than unified.Decode: the same values by the same
	// field tags, in 60% of the time (40 ms for 1000 clusters with Decode).
	js, err := unified.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("decoding mesh: %w", err)
	}
	m := &Mesh{}
	if err := decodeMesh(js, m); err != nil {
		return nil, err
	}
	m.File, m.data = filename, doc
	m.topology = newTopology(m)
	return m, nil
}

// decodeMesh decodes the schema-checked document into the Go model,
// refusing a field the model lacks: TestModelMatchesSchema keeps the two in
// step, and this keeps a drift from ever dropping input silently.
func decodeMesh(js []byte, m *Mesh) error {
	d := json.NewDecoder(bytes.NewReader(js))
	d.DisallowUnknownFields()
	if err := d.Decode(m); err != nil {
		return fmt.Errorf("decoding mesh (the Go model and schema/mesh.cue disagree): %w", err)
	}
	return nil
}
