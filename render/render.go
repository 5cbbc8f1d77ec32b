package render

import (
	"bytes"
	"fmt"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"

	"meshc.dev/meshc/diagram"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/output"
	"meshc.dev/meshc/templates"
)

// Render produces every file of every cluster plus the mesh's plan. The mesh
// must have passed Validate; Render reports, but does not diagnose, a mesh
// that did not. Clusters render independently and in parallel; the result is
// byte-identical from run to run.
func Render(m *mesh.Mesh) (*output.Output, error) {
	out, err := renderClusters(m)
	if err != nil {
		return nil, err
	}
	p := BuildPlan(m)
	plan, err := RenderPlanMarkdown(p)
	if err != nil {
		return nil, err
	}
	script, err := RenderPlanShell(p, ShellOptions{})
	if err != nil {
		return nil, err
	}
	out.Files = append(out.Files, output.File{Path: planRow.Name, Data: plan}, output.File{Path: planScriptRow.Name, Data: script, Mode: planScriptRow.Mode},
		output.File{Path: diagramRow.Name, Data: diagram.SVG(p.Diagram)})
	out.Sort()
	if m.Spec.GitOps != nil {
		tree, err := gitopsRender(m, func(p string) []byte {
			if f := out.Lookup(p); f != nil {
				return f.Data
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		out.Files = append(out.Files, tree...)
		out.Sort()
	}
	return out, nil
}

// renderClusters renders what the plan's steps apply: every cluster's
// files and its VM groups', in parallel, sorted by path. Render adds the
// mesh's own files; a change plan compares no more than these.
func renderClusters(m *mesh.Mesh) (*output.Output, error) {
	perCluster := make([]renderedCluster, len(m.Spec.Clusters))
	errs := make([]error, len(m.Spec.Clusters))
	docs := newMeshDocs(m)
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(runtime.GOMAXPROCS(0), len(m.Spec.Clusters)) {
		wg.Go(func() {
			for i := range next {
				perCluster[i], errs[i] = renderCluster(m, &m.Spec.Clusters[i], docs)
			}
		})
	}
	for i := range m.Spec.Clusters {
		next <- i
	}
	close(next)
	wg.Wait()

	out := &output.Output{Manifests: make(map[string][]string, len(m.Spec.Clusters)), Mesh: m.Metadata.Name, Input: m.File}
	for i := range perCluster {
		if errs[i] != nil {
			return nil, errs[i]
		}
		addCluster(out, perCluster[i])
		out.Files = append(out.Files, perCluster[i].vm...)
	}
	if m.Declarative() || m.Revisioned() {
		access, err := renderRemoteAccess(m)
		if err != nil {
			return nil, err
		}
		out.Files = append(out.Files, access...)
	}
	out.Sort()
	return out, nil
}

// RenderCluster renders only the named cluster's files (install/ or helm/,
// and manifests/, without the mesh's plan or remote-secret files): what the
// kustomize function emits, at the cost of one cluster rather than the mesh.
// The mesh must have passed Validate.
func RenderCluster(m *mesh.Mesh, name string) (*output.Output, error) {
	c := m.Cluster(name)
	if c == nil {
		return nil, fmt.Errorf("cluster %q is not in mesh %q", name, m.Metadata.Name)
	}
	rc, err := renderCluster(m, c, newMeshDocs(m))
	if err != nil {
		return nil, err
	}
	out := &output.Output{Manifests: map[string][]string{}}
	addCluster(out, rc)
	slices.SortFunc(out.Files, func(a, b output.File) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// renderedCluster is one cluster's files, in artifact-table order.
type renderedCluster struct {
	name      string
	files     []output.File
	manifests []string
	// vm is the files of the VM groups that register with the cluster:
	// for the VMs, not the cluster, so RenderCluster leaves them out.
	vm []output.File
}

// addCluster adds a cluster's files and manifests to o.
func addCluster(o *output.Output, rc renderedCluster) {
	o.Files = append(o.Files, rc.files...)
	o.Manifests[rc.name] = rc.manifests
}

// renderCluster renders every artifact of the table that applies to c.
func renderCluster(m *mesh.Mesh, c *mesh.Cluster, docs *meshDocs) (renderedCluster, error) {
	p := m.Place(c)
	if p == nil {
		return renderedCluster{}, fmt.Errorf("cluster %q: control plane %q not found (validate the mesh before rendering)", c.Name, c.ControlPlane)
	}
	arts := ArtifactsFor(p)
	view := newClusterView(p, docs)
	var prevView *clusterView
	if p.HasPrevious() {
		prevView = newClusterView(m.Previous().Place(c), docs)
	}
	rc := renderedCluster{name: c.Name, files: make([]output.File, 0, len(arts))}
	var buf bytes.Buffer
	for _, a := range arts {
		buf.Reset()
		v := view
		if a.Previous {
			v = prevView
		}
		if err := templates.Set.ExecuteTemplate(&buf, a.Template, v); err != nil {
			return renderedCluster{}, fmt.Errorf("cluster %q: rendering %s: %w", c.Name, a.Name, err)
		}
		rc.files = append(rc.files, output.File{Path: a.Path(c.Name), Data: bytes.Clone(buf.Bytes())})
	}
	vm, err := renderVMFiles(p)
	if err != nil {
		return renderedCluster{}, err
	}
	rc.vm = vm
	for _, name := range kustomizationResources(arts) {
		rc.manifests = append(rc.manifests, path.Join(c.Name, ManifestsDir, name))
	}
	return rc, nil
}

// readerView is what istio-reader.yaml.tmpl sees: a cluster other primaries
// watch, and those primaries.
type readerView struct {
	Mesh        *mesh.Mesh
	Cluster     *mesh.Cluster
	Readers     []*mesh.Cluster
	TokenSecret string
}

// remoteSecretView is what remote-secret.yaml.tmpl sees: one reader/source
// pair and the placeholder names for the credential it lacks.
type remoteSecretView struct {
	Mesh                       *mesh.Mesh
	Reader, Source             *mesh.Cluster
	TokenSecret                string
	CAVar, TokenVar, ServerVar string
}

// renderRemoteAccess writes the declarative form of every remote secret:
// per watched cluster its reader access, per pair the Secret the reading
// primary needs, in the order RemoteSecrets gives.
func renderRemoteAccess(m *mesh.Mesh) ([]output.File, error) {
	pairs := mesh.RemoteSecrets(m)
	readers := map[string][]*mesh.Cluster{}
	var files []output.File
	var buf bytes.Buffer
	for _, s := range pairs {
		readers[s.Source.Name] = append(readers[s.Source.Name], s.Reader)
		if !m.Declarative() {
			continue // the reader access alone (readerRBACSteps)
		}
		env := "MESHC_" + strings.ToUpper(strings.ReplaceAll(s.Source.Name, "-", "_"))
		v := &remoteSecretView{Mesh: m, Reader: s.Reader, Source: s.Source, TokenSecret: ReaderTokenSecret,
			CAVar: env + "_CA_DATA", TokenVar: env + "_TOKEN", ServerVar: env + "_API_SERVER"}
		buf.Reset()
		if err := templates.Set.ExecuteTemplate(&buf, remoteSecretRow.Template, v); err != nil {
			return nil, fmt.Errorf("cluster %q: rendering remote secret for %q: %w", s.Reader.Name, s.Source.Name, err)
		}
		files = append(files, output.File{Path: path.Join(s.Reader.Name, remoteSecretRow.Dir, RemoteSecretFile(s.Source.Name)), Data: bytes.Clone(buf.Bytes())})
	}
	for i := range m.Spec.Clusters {
		c := &m.Spec.Clusters[i]
		if len(readers[c.Name]) == 0 {
			continue
		}
		buf.Reset()
		v := &readerView{Mesh: m, Cluster: c, Readers: readers[c.Name], TokenSecret: ReaderTokenSecret}
		if err := templates.Set.ExecuteTemplate(&buf, readerAccessRow.Template, v); err != nil {
			return nil, fmt.Errorf("cluster %q: rendering reader access: %w", c.Name, err)
		}
		files = append(files, output.File{Path: path.Join(c.Name, readerAccessRow.Dir, readerAccessRow.Name), Data: bytes.Clone(buf.Bytes())})
	}
	return files, nil
}
