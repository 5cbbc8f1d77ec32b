package output

import (
	"io/fs"
	"slices"
	"strings"
)

// File is one rendered file, its path relative to the output directory.
type File struct {
	Path string
	Data []byte
	// Mode is the file's permission bits; 0 means 0644.
	Mode fs.FileMode
}

// Output is the whole rendered tree for a mesh, sorted by path.
type Output struct {
	Files []File
	// Manifests lists, per cluster, the paths of its manifests/ resources
	// in apply order (its kustomization's order): what meshc fn emits.
	Manifests map[string][]string
	// Mesh is the rendered mesh's metadata.name and Input the file it was
	// loaded from: Write names the mesh in its ownership marker and never
	// replaces a directory holding the input.
	Mesh, Input string
}

// Lookup returns the file at path, or nil.
func (o *Output) Lookup(p string) *File {
	i, ok := slices.BinarySearchFunc(o.Files, p, func(f File, p string) int { return strings.Compare(f.Path, p) })
	if !ok {
		return nil
	}
	return &o.Files[i]
}

// Sort orders the files by path, as Lookup needs.
func (o *Output) Sort() {
	slices.SortFunc(o.Files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
}

// ClusterManifests returns the cluster's manifests/ resources in apply
// order (its kustomization's order), without the kustomization itself.
func (o *Output) ClusterManifests(cluster string) []File {
	files := make([]File, 0, len(o.Manifests[cluster]))
	for _, p := range o.Manifests[cluster] {
		if f := o.Lookup(p); f != nil {
			files = append(files, *f)
		}
	}
	return files
}
