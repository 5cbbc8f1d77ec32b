package krm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/output"
	"meshc.dev/meshc/render"
)

// ClusterAnnotation on the Mesh document names the cluster whose resources
// the function emits. It is an annotation, not a spec field, because the
// Mesh schema is closed and the choice of cluster belongs to the
// kustomization using the Mesh, not to the mesh itself.
const ClusterAnnotation = "meshc.dev/cluster"

// Run reads a ResourceList from r, runs the function and writes the
// resulting ResourceList to w. When the Mesh is invalid, the ResourceList
// written carries the problems as results and Run returns them as Results;
// any other error means nothing useful was written.
func Run(r io.Reader, w io.Writer) error {
	rl, err := readInput(r)
	if err != nil {
		return err
	}
	annos, err := kio.PreprocessResourcesForInternalAnnotationMigration(rl.items)
	if err != nil {
		return fmt.Errorf("reading ResourceList: %w", err)
	}
	out, results, err := Process(rl.items, rl.functionConfig)
	if err != nil {
		return err
	}
	if err := kio.ReconcileInternalAnnotations(out, annos); err != nil {
		return fmt.Errorf("writing ResourceList: %w", err)
	}
	var resultsNode *yaml.RNode
	if len(results) > 0 {
		if resultsNode, err = results.node(); err != nil {
			return fmt.Errorf("writing ResourceList results: %w", err)
		}
	}
	if err := rl.write(w, out, resultsNode); err != nil {
		return fmt.Errorf("writing ResourceList: %w", err)
	}
	return results.Err()
}

// Process is the function itself: it compiles fnConfig, a Mesh document,
// and returns items followed by the selected cluster's resources. Problems
// with the Mesh come back as results (with items unchanged), so a caller
// can report them with the ResourceList; the error is for failures that are
// not the input's fault.
func Process(items []*yaml.RNode, fnConfig *yaml.RNode) ([]*yaml.RNode, Results, error) {
	if fnConfig == nil || fnConfig.IsNilOrEmpty() {
		return items, Results{{
			Severity: SeverityError,
			Message:  "the ResourceList has no functionConfig; meshc fn expects the Mesh document there",
		}}, nil
	}
	src := source(fnConfig)
	data, err := fnConfig.String()
	if err != nil {
		return nil, nil, fmt.Errorf("reading functionConfig: %w", err)
	}
	m, err := compiler.Vet(src.filename(), []byte(data))

	var ps diag.Problems
	if err != nil && !errors.As(err, &ps) {
		return nil, nil, fmt.Errorf("compiling functionConfig: %w", err)
	}
	cluster, clusterProblem := selectedCluster(fnConfig, m)
	if clusterProblem != nil {
		ps = insertBySection(ps, *clusterProblem)
	}
	if len(ps) > 0 {
		return items, src.results(ps), nil
	}

	// One cluster's files, not the whole mesh's: kustomize runs the
	// function once per overlay.
	out, err := render.RenderCluster(m, cluster)
	if err != nil {
		return nil, nil, fmt.Errorf("rendering functionConfig: %w", err)
	}
	gen, err := resources(out, cluster, src.dir(), src.path != "")
	if err != nil {
		return nil, nil, err
	}
	generated := map[string]bool{}
	for _, n := range gen {
		generated[pathOf(n)] = true
	}
	kept := slices.DeleteFunc(slices.Clone(items), func(n *yaml.RNode) bool {
		p := pathOf(n)
		return p != "" && generated[p]
	})
	return append(kept, gen...), nil, nil
}

// selectedCluster reads ClusterAnnotation. It checks the name against the
// mesh only when the mesh compiled; otherwise the compiler's problems say
// what is wrong and a missing cluster would be noise.
func selectedCluster(fnConfig *yaml.RNode, m *mesh.Mesh) (string, *diag.Problem) {
	path := "metadata.annotations." + ClusterAnnotation
	name, ok := annotations(fnConfig)[ClusterAnnotation]
	if !ok || name == "" {
		return "", &diag.Problem{Path: path, Message: fmt.Sprintf(
			"missing annotation %s: it names the cluster whose resources meshc emits", ClusterAnnotation)}
	}
	if m == nil {
		return name, nil
	}
	if m.Cluster(name) == nil {
		return "", &diag.Problem{Path: path, Message: fmt.Sprintf(
			"cluster %q is not in mesh %q (clusters: %s)", name, m.Metadata.Name, strings.Join(m.ClusterNames(), ", "))}
	}
	return name, nil
}

// insertBySection puts p, a metadata problem, after the problems with
// apiVersion, kind and metadata and before those in spec: the order the
// fields take in a Mesh document.
func insertBySection(ps diag.Problems, p diag.Problem) diag.Problems {
	i := slices.IndexFunc(ps, func(q diag.Problem) bool { return strings.HasPrefix(q.Path, "spec") })
	if i < 0 {
		i = len(ps)
	}
	return slices.Insert(ps, i, p)
}

// resources parses the cluster's manifests/ files in apply order (the
// order its kustomization lists them), annotating each with the path and
// index it would have on disk. toFiles says the Mesh itself came from a
// file, so the runner writes resources back to files.
func resources(out *output.Output, cluster, dir string, toFiles bool) ([]*yaml.RNode, error) {
	var gen []*yaml.RNode
	for _, f := range out.ClusterManifests(cluster) {
		nodes, err := (&kio.ByteReader{Reader: bytes.NewReader(f.Data), OmitReaderAnnotations: true}).Read()
		if err != nil {
			return nil, fmt.Errorf("rendering %s: parsing %s: %w", cluster, f.Path, err)
		}
		for i, n := range nodes {
			a := n.GetAnnotations()
			a[kioutil.PathAnnotation] = path.Join(dir, f.Path)
			a[kioutil.IndexAnnotation] = strconv.Itoa(i)
			if toFiles {
				// Writers that put resources back into files (kustomize fn
				// run) indent lists the way meshc render does.
				a[kioutil.SeqIndentAnnotation] = string(yaml.WideSequenceStyle)
			}
			if err := n.SetAnnotations(a); err != nil {
				return nil, fmt.Errorf("rendering %s: annotating %s: %w", cluster, f.Path, err)
			}
		}
		gen = append(gen, nodes...)
	}
	if len(gen) == 0 {
		return nil, fmt.Errorf("rendering %s: the output has no manifests for it", cluster)
	}
	return gen, nil
}

// pathOf returns the file a resource was read from or goes to, in either
// the current or the legacy annotation.
func pathOf(n *yaml.RNode) string {
	a := annotations(n)
	if p := a[kioutil.PathAnnotation]; p != "" {
		return path.Clean(p)
	}
	if p := a[kioutil.LegacyPathAnnotation]; p != "" {
		return path.Clean(p)
	}
	return ""
}

// origin is where the function runner says the Mesh came from.
type origin struct {
	ref   *yaml.ResourceIdentifier
	path  string // the file, relative to the runner's root; "" when unknown
	index int
}

func source(fnConfig *yaml.RNode) origin {
	o := origin{path: pathOf(fnConfig)}
	root := fnConfig.YNode()
	kind, name := scalar(root, "kind"), scalar(field(root, "metadata"), "name")
	if kind != "" || name != "" {
		o.ref = &yaml.ResourceIdentifier{
			TypeMeta: yaml.TypeMeta{APIVersion: scalar(root, "apiVersion"), Kind: kind},
			NameMeta: yaml.NameMeta{Name: name},
		}
	}
	a := annotations(fnConfig)
	idx := a[kioutil.IndexAnnotation]
	if idx == "" {
		idx = a[kioutil.LegacyIndexAnnotation]
	}
	o.index, _ = strconv.Atoi(idx)
	return o
}

// filename names the Mesh in compiler problems. The results drop the
// compiler's positions, so this only matters to the compiler.
func (o origin) filename() string {
	if o.path != "" {
		return o.path
	}
	return "functionConfig"
}

// dir is where the Mesh's file sits; generated paths are relative to it.
func (o origin) dir() string {
	if o.path == "" {
		return ""
	}
	return path.Dir(o.path)
}

// results maps problems to results one to one, in the same order.
func (o origin) results(ps diag.Problems) Results {
	rs := make(Results, len(ps))
	for i, p := range ps {
		r := Result{Severity: SeverityError, Message: p.Advice(), ResourceRef: o.ref}
		if p.Path != "" {
			r.Field = &Field{Path: p.Path}
		}
		if o.path != "" {
			r.File = &File{Path: o.path, Index: o.index}
		}
		if p.Rule != "" {
			r.Tags = map[string]string{"rule": p.Rule}
		}
		rs[i] = r
	}
	return rs
}

// annotations reads metadata.annotations without trusting the document's
// shape: kyaml's own accessors panic on some malformed metadata, and the
// function config is user input. Entries that are not pairs of strings are
// skipped; the compiler reports them.
func annotations(n *yaml.RNode) map[string]string {
	out := map[string]string{}
	a := field(field(n.YNode(), "metadata"), "annotations")
	if a == nil || a.Kind != yaml.MappingNode {
		return out
	}
	for i := 0; i+1 < len(a.Content); i += 2 {
		k, v := a.Content[i], a.Content[i+1]
		if k.Kind == yaml.ScalarNode && v.Kind == yaml.ScalarNode {
			out[k.Value] = v.Value
		}
	}
	return out
}

// field returns the value of key in mapping node n, or nil.
func field(n *yaml.Node, key string) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// scalar returns the string value of key in mapping node n, or "".
func scalar(n *yaml.Node, key string) string {
	if v := field(n, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}
