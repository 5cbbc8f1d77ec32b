package krm

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"

	"meshc.dev/meshc/compiler"
)

// MaxInputSize bounds the ResourceList meshc fn reads: the Mesh (at most
// compiler.MaxInputSize) and the resources kustomize passes along. Past it
// the function fails, naming the limit, instead of parsing without bound.
const MaxInputSize = 32 << 20

// readInput reads the whole ResourceList, up to MaxInputSize, and checks
// its envelope: a mapping of kind ResourceList whose items, if any, are a
// list. kyaml's reader accepts other shapes silently (an items mapping
// reads as no items) or names no kind.
func readInput(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxInputSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading ResourceList: %w", err)
	}
	if len(data) > MaxInputSize {
		return nil, fmt.Errorf("reading ResourceList: input exceeds %d bytes (%d MiB, MaxInputSize), the most meshc fn reads", MaxInputSize, MaxInputSize>>20)
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("reading ResourceList: input is empty; meshc fn reads a ResourceList on stdin")
		}
		return nil, fmt.Errorf("reading ResourceList: %w", err)
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("reading ResourceList: input is %s, not a ResourceList", shape(top))
	}
	kind := field(top, "kind")
	switch {
	case kind == nil:
		return nil, errors.New("reading ResourceList: input has no kind; expected kind: ResourceList")
	case kind.Kind != yaml.ScalarNode:
		return nil, fmt.Errorf("reading ResourceList: kind is %s; expected ResourceList", shape(kind))
	case kind.Value != "ResourceList":
		return nil, fmt.Errorf("reading ResourceList: input is not a ResourceList (found kind %s)", quote(kind.Value))
	}
	if items := field(top, "items"); items != nil && items.Kind != yaml.SequenceNode && !(items.Kind == yaml.ScalarNode && items.Tag == "!!null") {
		return nil, fmt.Errorf("reading ResourceList: items is %s; expected a list of resources", shape(items))
	}
	return data, nil
}

// shape names a YAML node's kind for a message.
func shape(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return "the scalar " + quote(n.Value)
}

// quote is compiler.Quote: one line, cut after 64 characters.
func quote(s string) string { return compiler.Quote(s) }
