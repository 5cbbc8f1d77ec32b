package conformance

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kubeyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"istio.io/istio/manifests"

	"meshc.dev/meshc/render"
)

// TestKustomizeHelmCharts builds each cluster's whole-install kustomization
// of a Helm example with kustomize's own packages and a real helm (built from
// the helm.sh/helm/v4 tool pinned in go.mod), offline: the chart home is
// filled beforehand with Istio's charts from the pinned commit, where
// kustomize would otherwise pull istio/<chart> at the Mesh's version. The
// build must hold every object the charts render from meshc's values and
// every object of manifests/, and pass the same fact checks.
func TestKustomizeHelmCharts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds helm")
	}
	helm := filepath.Join(t.TempDir(), "helm")
	build := exec.Command("go", "build", "-o", helm, "helm.sh/helm/v4/cmd/helm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building helm: %v\n%s", err, out)
	}
	m, dir := renderExample(t, helmExample)
	for _, c := range m.Spec.Clusters {
		t.Run(c.Name, func(t *testing.T) {
			root := filepath.Join(dir, c.Name)
			for _, a := range render.ArtifactsFor(m.Place(&c)) {
				if a.Apply == render.Helm {
					copyChart(t, a.Chart, filepath.Join(root, "charts", a.Chart+"-"+m.Spec.Istio.Version, a.Chart))
				}
			}
			opts := krusty.MakeDefaultOptions()
			opts.PluginConfig = types.EnabledPluginConfig(types.BploUseStaticallyLinked)
			opts.PluginConfig.HelmConfig = types.HelmConfig{Enabled: true, Command: helm}
			res, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), root)
			if err != nil {
				t.Fatalf("kustomize build --enable-helm %s: %v", c.Name, err)
			}
			data, err := res.AsYaml()
			if err != nil {
				t.Fatal(err)
			}
			built := decodeAll(t, data)

			// What the charts render and what manifests/ holds, each
			// object once.
			want := map[string]bool{}
			gateway := map[string]bool{} // the objects of the gateway chart
			v := &clusterCheck{mesh: m, cluster: c, root: dir}
			for _, a := range render.ArtifactsFor(m.Place(&c)) {
				var objs []*unstructured.Unstructured
				switch {
				case a.Apply == render.Helm:
					if objs, err = v.install(a.Dir, a.Name); err != nil {
						t.Fatal(err)
					}
				case a.Dir == render.ManifestsDir && a.Name != render.KustomizationFile:
					objs = decodeAll(t, mustReadFile(t, filepath.Join(root, a.Dir, a.Name)))
				}
				for _, o := range objs {
					want[objectKey(o)] = true
					gateway[objectKey(o)] = gateway[objectKey(o)] || a.Chart == render.ChartGateway
				}
			}
			got := map[string]bool{}
			for _, o := range built {
				got[objectKey(o)] = true
			}
			for k := range want {
				if !got[k] {
					t.Errorf("kustomize build lacks %s", k)
				}
			}
			for k := range got {
				if !want[k] {
					t.Errorf("kustomize build has %s, which neither the charts nor manifests/ hold", k)
				}
			}

			// The facts, on the kustomize output as a whole.
			if c.IsPrimary() {
				v.checkPrimary("kustomization.yaml", built)
			} else {
				v.checkRemote("kustomization.yaml", built)
			}
			if c.EastWestGateway != nil {
				var objs []*unstructured.Unstructured
				for _, o := range built {
					if gateway[objectKey(o)] {
						objs = append(objs, o)
					}
				}
				v.checkEastWestGateway("kustomization.yaml", objs)
			}
			for _, err := range v.errs {
				t.Error(err)
			}
		})
	}
}

// copyChart copies one of Istio's charts at the pinned commit into dst, as
// helm pull --untar would lay it out.
func copyChart(t *testing.T, chart, dst string) {
	t.Helper()
	src := chartDirs[chart]
	err := fs.WalkDir(manifests.BuiltinOrDir(""), src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dst, filepath.FromSlash(strings.TrimPrefix(strings.TrimPrefix(p, src), "/")))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := fs.ReadFile(manifests.BuiltinOrDir(""), p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatalf("copying chart %s: %v", path.Base(src), err)
	}
}

func objectKey(o *unstructured.Unstructured) string {
	return o.GetKind() + " " + o.GetNamespace() + "/" + o.GetName()
}

func decodeAll(t *testing.T, data []byte) []*unstructured.Unstructured {
	t.Helper()
	d := kubeyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		var o map[string]any
		if err := d.Decode(&o); err != nil {
			if err.Error() == "EOF" {
				return objs
			}
			t.Fatal(err)
		}
		if len(o) > 0 {
			objs = append(objs, &unstructured.Unstructured{Object: o})
		}
	}
}

func mustReadFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
