package compiler_test

import (
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/internal/meshgen"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/render"
)

// tableMeshes are the meshes the artifact-table properties are checked on:
// every example and generated meshes of both topologies.
func tableMeshes(t *testing.T) map[string]*mesh.Mesh {
	t.Helper()
	meshes := map[string]*mesh.Mesh{}
	for _, ex := range examples(t) {
		m, err := compiler.Vet(ex+"/mesh.yaml", mustRead(t, filepath.Join("../examples", ex, "mesh.yaml")))
		if err != nil {
			t.Fatal(err)
		}
		meshes[ex] = m
	}
	for _, topo := range meshgen.Topologies {
		for _, n := range []int{1, 3, 12, 30} {
			s := meshgen.Shape{Topology: topo, Clusters: n}
			m, err := compiler.Vet("mesh.yaml", meshgen.Generate(s))
			if err != nil {
				t.Fatal(err)
			}
			meshes[s.String()] = m
		}
		s := meshgen.Shape{Topology: topo, Clusters: 12, Services: 4, VMGroups: 6}
		m, err := compiler.Vet("mesh.yaml", meshgen.Generate(s))
		if err != nil {
			t.Fatal(err)
		}
		meshes[s.String()] = m
	}
	return meshes
}

// TestArtifactsTable checks the table's promises on real meshes: a file has
// at most one row per cluster; render writes exactly the rows that apply;
// every rendered file reaches its cluster through a plan step of its own or
// through its directory's kustomization; the kustomization lists, and the
// output's Manifests give, the manifests/ rows in table order.
func TestArtifactsTable(t *testing.T) {
	for name, m := range tableMeshes(t) {
		out, err := render.Render(m)
		if err != nil {
			t.Fatal(err)
		}
		steps := map[string]string{} // command → phase
		for _, ph := range render.BuildPlan(m).Phases {
			for _, s := range ph.Steps {
				steps[s.Command] = ph.ID
			}
		}
		for i := range m.Spec.Clusters {
			c := &m.Spec.Clusters[i]
			arts := render.ArtifactsFor(m.Place(c))
			rendered := map[string]bool{}
			var manifests []string
			for _, a := range arts {
				p := a.Path(c.Name)
				if rendered[p] {
					t.Errorf("%s: %s has two rows of the artifact table", name, p)
				}
				rendered[p] = true
				if out.Lookup(p) == nil {
					t.Errorf("%s: %s applies but was not rendered", name, p)
				}
				if a.Dir == render.ManifestsDir && a.Name != render.KustomizationFile {
					manifests = append(manifests, p)
				}
				if !applied(a, c, arts, steps) {
					t.Errorf("%s: %s is rendered but no plan step applies it", name, p)
				}
			}
			for _, f := range out.Files {
				if inClusterDirs(f.Path, c.Name) {
					if !rendered[f.Path] {
						t.Errorf("%s: %s is rendered but no row of the artifact table applies to %s", name, f.Path, c.Name)
					}
				}
			}
			if got := out.Manifests[c.Name]; !slices.Equal(got, manifests) {
				t.Errorf("%s: %s manifests in apply order: got %v, want %v", name, c.Name, got, manifests)
			}
			kust := string(out.Lookup(path.Join(c.Name, render.ManifestsDir, render.KustomizationFile)).Data)
			last := -1
			for _, p := range manifests {
				at := strings.Index(kust, "  - "+path.Base(p)+"\n")
				if at < last {
					t.Errorf("%s: %s's kustomization does not list %s after the resources before it (at %d)", name, c.Name, path.Base(p), at)
				}
				last = at
			}
		}
	}
}

// applied reports whether a plan step applies a: its own step in its phase,
// or a kubectl apply -k of its directory.
func applied(a *render.Artifact, c *mesh.Cluster, arts []*render.Artifact, steps map[string]string) bool {
	if a.Apply == render.WithDirectory {
		for _, k := range arts {
			if k.Dir == a.Dir && k.Apply == render.Kustomize {
				return applied(k, c, arts, steps)
			}
		}
		return false
	}
	if a.Apply == render.NotApplied && a.Dir == "." {
		// The Helm path's whole-cluster kustomization: an alternative to
		// the plan, which applies its parts one by one.
		return a.Name == render.KustomizationFile
	}
	if a.Apply == render.NotApplied && a.Dir == mesh.CADir && a.Name == mesh.RootCertFile {
		// Read, not applied: the verify-root step compares cacerts with it.
		for cmd, phase := range steps {
			if phase == render.PhaseVerifyRoot && strings.Contains(cmd, " "+a.Path(c.Name)+" ") && strings.Contains(cmd, "--context="+c.Context+" ") {
				return true
			}
		}
		return false
	}
	if a.Apply == render.NotApplied {
		// Only a remote's kustomization may have no step, and only when its
		// one resource, the namespace, is applied on its own.
		return a.Name == render.KustomizationFile && !c.IsPrimary() && len(kustomized(arts)) == 1
	}
	for cmd, phase := range steps {
		target := " " + a.Path(c.Name)
		if a.Apply == render.Kustomize {
			target = " -k " + path.Join(c.Name, a.Dir)
		}
		onCluster := strings.Contains(cmd, "--context="+c.Context+" ") || strings.Contains(cmd, "--kube-context "+c.Context+" ")
		if phase == a.Phase && onCluster && strings.HasSuffix(cmd, target) {
			return true
		}
	}
	return false
}

// kustomized lists the artifacts a kustomization applies.
func kustomized(arts []*render.Artifact) []*render.Artifact {
	var out []*render.Artifact
	for _, a := range arts {
		if a.Dir == render.ManifestsDir && a.Name != render.KustomizationFile {
			out = append(out, a)
		}
	}
	return out
}

// TestArtifactRowsConsistent: a row with a phase says how that phase applies
// it, and a row without one is applied with its directory or not at all.
func TestArtifactRowsConsistent(t *testing.T) {
	for _, a := range render.Catalogue {
		applies := a.Apply == render.Istioctl || a.Apply == render.Kubectl || a.Apply == render.Kustomize || a.Apply == render.Helm
		if (a.Phase != "") != applies || applies && a.Scope != render.PerCluster {
			t.Errorf("%s: phase %q with apply kind %d", a.Pattern(), a.Phase, a.Apply)
		}
		if a.Scope == render.PerCluster && (a.Template == "" || a.For == nil) {
			t.Errorf("%s: no template or condition", a.Pattern())
		}
		if a.When == "" || a.About == "" {
			t.Errorf("%s: no words for docs/output.md (When, About)", a.Pattern())
		}
	}
}

// inClusterDirs reports whether p is a file the artifact table fills for
// cluster: in its directory itself, or in install/, helm/ or manifests/.
func inClusterDirs(p, cluster string) bool {
	if rest, ok := strings.CutPrefix(p, cluster+"/"); ok && !strings.Contains(rest, "/") {
		return true
	}
	for _, d := range []string{render.InstallDir, render.HelmDir, render.ManifestsDir, mesh.CADir} {
		if strings.HasPrefix(p, cluster+"/"+d+"/") {
			return true
		}
	}
	return false
}

// TestCatalogueCoversOutput: every file meshc writes for an example,
// ownership marker included, is a row of the catalogue, with the row's
// mode, so the catalogue (and docs/output.md, generated from it) lists
// everything meshc writes.
func TestCatalogueCoversOutput(t *testing.T) {
	seen := map[*render.Artifact]bool{}
	for _, ex := range examples(t) {
		_, out, err := compiler.Compile(ex+"/mesh.yaml", mustRead(t, filepath.Join("../examples", ex, "mesh.yaml")))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range out.Owned().Files {
			a := catalogued(f.Path)
			if a == nil {
				t.Errorf("%s: %s is in no row of the catalogue", ex, f.Path)
				continue
			}
			seen[a] = true
			if a.Scope != render.PerMesh || a.Name != "" {
				if f.Mode != a.Mode {
					t.Errorf("%s: %s has mode %v, its row %v", ex, f.Path, f.Mode, a.Mode)
				}
			}
		}
	}
	for _, a := range render.Catalogue {
		if !seen[a] && a.Scope != render.PerCluster {
			t.Errorf("%s: no example writes it; add one that does", a.Pattern())
		}
	}
}

// catalogued returns the row whose pattern p matches, or nil.
func catalogued(p string) *render.Artifact {
	for _, a := range render.Catalogue {
		pat := a.Pattern()
		if strings.HasSuffix(pat, "/") {
			if strings.HasPrefix(p, pat) {
				return a
			}
			continue
		}
		segs := strings.Split(pat, "/")
		for i, s := range segs {
			if strings.Contains(s, "<") {
				segs[i] = strings.NewReplacer("<cluster>", "*", "<namespace>", "*", "<group>", "*", "<source>", "*").Replace(s)
			}
		}
		if ok, _ := path.Match(strings.Join(segs, "/"), p); ok {
			return a
		}
	}
	return nil
}
