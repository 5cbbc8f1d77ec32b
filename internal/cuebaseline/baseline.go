package cuebaseline

import (
	_ "embed"
	"fmt"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/encoding/yaml"

	"meshc.dev/meshc/schema"
)

//go:embed baseline.cue
var source []byte

// Output is what the CUE baseline produces for one mesh.
type Output struct {
	// Files maps meshc's output paths to YAML documents.
	Files map[string][]byte
	// RemoteSecrets are the plan's create-remote-secret command lines, by
	// reader, then by source, in input order.
	RemoteSecrets []string
}

// Export evaluates baseline.cue over the Mesh document in data and exports its
// result, as `cue export` would: parse, unify with the schema, evaluate every
// comprehension, check that everything is concrete, encode.
func Export(filename string, data []byte) (*Output, error) {
	ctx := cuecontext.New()
	root := ctx.CompileBytes(schema.Source, cue.Filename(schema.Filename))
	if err := root.Err(); err != nil {
		return nil, fmt.Errorf("compiling schema: %w", err)
	}
	prog := ctx.CompileBytes(source, cue.Filename("baseline.cue"), cue.Scope(root))
	if err := prog.Err(); err != nil {
		return nil, fmt.Errorf("compiling baseline.cue: %w", err)
	}
	file, err := yaml.Extract(filename, data)
	if err != nil {
		return nil, fmt.Errorf("parsing mesh: %w", err)
	}
	doc := ctx.BuildFile(file)
	v := prog.FillPath(cue.ParsePath("input"), doc)
	if err := v.Validate(cue.Concrete(true)); err != nil {
		return nil, fmt.Errorf("evaluating baseline.cue: %w", err)
	}

	out := &Output{Files: map[string][]byte{}}
	it, err := v.LookupPath(cue.ParsePath("files")).Fields()
	if err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	for it.Next() {
		cluster := it.Selector().Unquoted()
		files, err := it.Value().Fields()
		if err != nil {
			return nil, fmt.Errorf("files of %s: %w", cluster, err)
		}
		for files.Next() {
			p := cluster + "/" + files.Selector().Unquoted()
			b, err := yaml.Encode(files.Value())
			if err != nil {
				return nil, fmt.Errorf("encoding %s: %w", p, err)
			}
			out.Files[p] = b
		}
	}
	it, err = v.LookupPath(cue.ParsePath("remoteSecrets")).Fields()
	if err != nil {
		return nil, fmt.Errorf("remoteSecrets: %w", err)
	}
	for it.Next() {
		var lines []string
		if err := it.Value().Decode(&lines); err != nil {
			return nil, fmt.Errorf("remoteSecrets: %w", err)
		}
		out.RemoteSecrets = append(out.RemoteSecrets, lines...)
	}
	return out, nil
}
