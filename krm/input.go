package krm

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/internal/yamlbound"
)

// Limits on the ResourceList meshc fn reads, so that its memory stays
// under 300 MB for any input it accepts (`make bench` measures the worst
// shapes). Past one the function fails at once, naming it.
const (
	// MaxInputSize bounds the bytes: the Mesh (at most
	// mesh.MaxInputSize) and the resources kustomize passes along.
	MaxInputSize = 16 << 20
	// MaxNodes bounds the YAML tree, as yamlbound.Nodes counts it before
	// parsing. A node can take one byte of input, and costs about 200
	// bytes parsed and twice that again while the output is encoded (the
	// YAML encoder keeps every event of a document), so size alone bounds
	// nothing. Kubernetes manifests count about 2.5 a parsed node, so this
	// admits some 50,000 nodes of them (300 Deployments); kustomize passes
	// a generator no items at all.
	MaxNodes = 1 << 17
	// MaxResources bounds the items: kustomize's annotation bookkeeping
	// costs a few kilobytes for each, however small.
	MaxResources = 10000
)

// resourceListKind is the kind of the function's input and output.
const resourceListKind = "ResourceList"

// resourceList is the input, parsed once: the function reads the Mesh from
// functionConfig and passes items through.
type resourceList struct {
	apiVersion     string
	items          []*kyaml.RNode
	functionConfig *kyaml.RNode
}

// readInput reads the whole ResourceList within the limits above and checks
// its envelope: one document, a mapping of kind ResourceList whose items, if
// any, are a list. kyaml's reader accepts other shapes silently (an items
// mapping reads as no items) or names no kind.
func readInput(r io.Reader) (*resourceList, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxInputSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading ResourceList: %w", err)
	}
	if len(data) > MaxInputSize {
		return nil, fmt.Errorf("reading ResourceList: input exceeds %d bytes (%d MiB, MaxInputSize), the most meshc fn reads", MaxInputSize, MaxInputSize>>20)
	}
	if n := yamlbound.Nodes(data); n > MaxNodes {
		return nil, fmt.Errorf("reading ResourceList: input may hold up to %d YAML nodes (keys, values and list items, counted before parsing); meshc fn reads at most %d (MaxNodes)", n, MaxNodes)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("reading ResourceList: input is empty; meshc fn reads a ResourceList on stdin")
		}
		return nil, fmt.Errorf("reading ResourceList: %w", err)
	}
	if err := dec.Decode(new(yaml.Node)); !errors.Is(err, io.EOF) {
		return nil, errors.New("reading ResourceList: input holds more than one YAML document; a ResourceList is one")
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
	case kind.Value != resourceListKind:
		return nil, fmt.Errorf("reading ResourceList: input is not a ResourceList (found kind %s)", quote(kind.Value))
	}
	rl := &resourceList{apiVersion: scalar(top, "apiVersion")}
	if fc := field(top, "functionConfig"); fc != nil {
		rl.functionConfig = kyaml.NewRNode(fc)
	}
	items := field(top, "items")
	switch {
	case items == nil || items.Kind == yaml.ScalarNode && items.Tag == "!!null":
	case items.Kind != yaml.SequenceNode:
		return nil, fmt.Errorf("reading ResourceList: items is %s; expected a list of resources", shape(items))
	case len(items.Content) > MaxResources:
		return nil, fmt.Errorf("reading ResourceList: %d items; meshc fn reads at most %d (MaxResources)", len(items.Content), MaxResources)
	default:
		rl.items = make([]*kyaml.RNode, len(items.Content))
		for i, n := range items.Content {
			if a := foreignAlias(n); a != nil {
				return nil, fmt.Errorf("reading ResourceList: items[%d] (line %d) uses the alias *%s, whose anchor is not in the same item; the function passes items on one by one, where that alias would name nothing: expand it", i, a.Line, a.Value)
			}
			rl.items[i] = kyaml.NewRNode(n)
		}
	}
	return rl, nil
}

// foreignAlias returns the first alias in the item whose anchor lies
// outside it (elsewhere in the ResourceList), or nil. An item's own anchors
// travel with it; another's would leave the output's alias dangling.
func foreignAlias(item *yaml.Node) *yaml.Node {
	own := map[*yaml.Node]bool{}
	var walk func(n *yaml.Node) *yaml.Node
	walk = func(n *yaml.Node) *yaml.Node {
		own[n] = true
		if n.Kind == yaml.AliasNode {
			if !own[n.Alias] {
				return n
			}
			return nil // its anchor was walked already; never follow it
		}
		for _, c := range n.Content {
			if a := walk(c); a != nil {
				return a
			}
		}
		return nil
	}
	return walk(item)
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

// quote is diag.Quote: one line, cut after 64 characters.
func quote(s string) string { return diag.Quote(s) }
