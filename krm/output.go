package krm

import (
	"io"

	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// write writes the resulting ResourceList: out as its items, the input's
// functionConfig and results. It is kio.ByteWriter's wrapped output
// without its copy of every item, which doubled the function's memory:
// the items are the function's own, and are written once.
func (rl *resourceList) write(w io.Writer, out []*kyaml.RNode, results *kyaml.RNode) error {
	items := &kyaml.Node{Kind: kyaml.SequenceNode, Content: make([]*kyaml.Node, len(out))}
	for i, n := range out {
		// The annotation bookkeeping may leave an empty annotations map.
		if err := kyaml.ClearEmptyAnnotations(n); err != nil {
			return err
		}
		items.Content[i] = n.YNode()
	}
	str := func(s string) *kyaml.Node { return &kyaml.Node{Kind: kyaml.ScalarNode, Value: s} }
	list := &kyaml.Node{Kind: kyaml.MappingNode, Content: []*kyaml.Node{
		str("apiVersion"), str(rl.apiVersion),
		str("kind"), str(resourceListKind),
		str("items"), items,
	}}
	if rl.functionConfig != nil {
		list.Content = append(list.Content, str("functionConfig"), rl.functionConfig.YNode())
	}
	if results != nil {
		list.Content = append(list.Content, str("results"), results.YNode())
	}
	enc := kyaml.NewEncoder(w)
	if err := enc.Encode(&kyaml.Node{Kind: kyaml.DocumentNode, Content: []*kyaml.Node{list}}); err != nil {
		return err
	}
	return enc.Close()
}
