package krm_test

import (
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/runfn"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"meshc.dev/meshc/krm"

	"meshc.dev/meshc/internal/golden"
)

// update is the one switch that regenerates golden files in every package:

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// meshcBinary builds meshc from this tree once per test run: kustomize runs
// exec functions as processes, so the tests need the real binary.
func meshcBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "meshc-krm-test-")
		if binErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, "meshc"), "meshc.dev/meshc/cmd/meshc").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return filepath.Join(binDir, "meshc")
}

// checkout lays out a copy of the repository's examples/kustomize in a
// temporary directory, with the freshly built meshc at bin/meshc, where
// `make build` puts it. The committed exec path then resolves as it does
// in a clone, so the test builds exactly the example docs/kustomize.md shows.
func checkout(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	copyDir(t, "../examples/kustomize", filepath.Join(root, "examples/kustomize"))
	if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(meshcBinary(t), filepath.Join(root, "bin/meshc")); err != nil {
		t.Fatal(err)
	}
	return root
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatalf("copying %s: %v", src, err)
	}
}

// build runs `kustomize build --enable-alpha-plugins --enable-exec dir`
// in-process, with kustomize's own code.
func build(dir string) (string, error) {
	opts := krusty.MakeDefaultOptions()
	opts.PluginConfig = types.EnabledPluginConfig(types.BploUseStaticallyLinked)
	opts.PluginConfig.FnpLoadingOptions.EnableExec = true
	opts.PluginConfig.HelmConfig.Enabled = false
	rm, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return "", err
	}
	out, err := rm.AsYaml()
	return string(out), err
}

// kubectlKustomize is `kubectl kustomize dir`: kubectl's built-in kustomize
// with its defaults, which run no plugins.
func kubectlKustomize(dir string) (string, error) {
	rm, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return "", err
	}
	out, err := rm.AsYaml()
	return string(out), err
}

func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	golden.File(t, path, []byte(got))
}

// TestKustomizeOverlays builds each overlay of examples/kustomize, as
// docs/kustomize.md tells users to, and compares it with golden/kustomize/<overlay>.yaml.
func TestKustomizeOverlays(t *testing.T) {
	root := checkout(t)
	overlays, err := filepath.Glob("../examples/kustomize/overlays/*/kustomization.yaml")
	if err != nil || len(overlays) != 2 {
		t.Fatalf("want two overlays in examples/kustomize/overlays, got %v (%v)", overlays, err)
	}
	for _, k := range overlays {
		name := filepath.Base(filepath.Dir(k))
		t.Run(name, func(t *testing.T) {
			got, err := build(filepath.Join(root, "examples/kustomize/overlays", name))
			if err != nil {
				t.Fatal(err)
			}
			compareGolden(t, filepath.Join("../golden/kustomize", name+".yaml"), got)
		})
	}
}

// meshFunction writes the Mesh of examples/<example> to dir/mesh.yaml as
// function config: the exec annotation names the built meshc, and
// ClusterAnnotation selects cluster.
func meshFunction(t *testing.T, example, cluster, dir string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("../examples", example, "mesh.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "mesh.yaml"), withAnnotations(t, string(data), map[string]string{
		"config.kubernetes.io/function": fmt.Sprintf("exec:\n  path: %s\n  args: [fn]\n", meshcBinary(t)),
		krm.ClusterAnnotation:           cluster,
	}))
}

func withAnnotations(t *testing.T, doc string, annos map[string]string) string {
	t.Helper()
	n, err := yaml.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	a := n.GetAnnotations()
	maps.Copy(a, annos)
	if err := n.SetAnnotations(a); err != nil {
		t.Fatal(err)
	}
	return n.MustString()
}

func writeFile(t *testing.T, name, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// goldenManifests lists every cluster's manifests/ directory in the golden
// output of the examples, as example/cluster.
func goldenManifests(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob("../golden/*/*/manifests")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden manifests directories: %v", err)
	}
	for i, d := range dirs {
		rel, _ := filepath.Rel("../golden", filepath.Dir(d))
		dirs[i] = filepath.ToSlash(rel)
	}
	return dirs
}

// TestGoldenManifestsBuild keeps the foundation's promise that `kubectl
// kustomize out/<cluster>/manifests` builds, for every cluster of every
// example, and checks the function against it: meshc as a kustomize
// generator yields exactly what kubectl would apply from `meshc render`.
func TestGoldenManifestsBuild(t *testing.T) {
	for _, ec := range goldenManifests(t) {
		example, cluster, _ := strings.Cut(ec, "/")
		t.Run(ec, func(t *testing.T) {
			want, err := kubectlKustomize(filepath.Join("../golden", ec, "manifests"))
			if err != nil {
				t.Fatalf("kubectl kustomize %s/manifests: %v", ec, err)
			}
			if strings.TrimSpace(want) == "" {
				t.Fatalf("kubectl kustomize %s/manifests built no resources", ec)
			}
			dir := t.TempDir()
			meshFunction(t, example, cluster, dir)
			writeFile(t, filepath.Join(dir, "kustomization.yaml"), "generators:\n  - mesh.yaml\n")
			got, err := build(dir)
			if err != nil {
				t.Fatalf("kustomize build with meshc as generator: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("meshc as generator differs from kubectl kustomize of the rendered manifests (-render +generator):\n%s", diff)
			}
		})
	}
}

// TestKustomizeTransformer lists the Mesh under transformers: the existing
// resources pass through and the cluster's resources are added, the same
// as listing the rendered manifests next to them.
func TestKustomizeTransformer(t *testing.T) {
	const app = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: default\ndata:\n  k: v\n"
	dir := t.TempDir()
	meshFunction(t, "primary-remote-multi-network", "cluster1", dir)
	writeFile(t, filepath.Join(dir, "app.yaml"), app)
	writeFile(t, filepath.Join(dir, "kustomization.yaml"), "resources:\n  - app.yaml\ntransformers:\n  - mesh.yaml\n")
	got, err := build(dir)
	if err != nil {
		t.Fatal(err)
	}

	ref := t.TempDir()
	writeFile(t, filepath.Join(ref, "app.yaml"), app)
	golden, err := filepath.Abs("../golden/primary-remote-multi-network/cluster1/manifests")
	if err != nil {
		t.Fatal(err)
	}
	// kustomize refuses absolute resource paths; a relative one may leave
	// the kustomization's directory.
	if golden, err = filepath.Rel(ref, golden); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(ref, "kustomization.yaml"), "resources:\n  - app.yaml\n  - "+golden+"\n")
	want, err := kubectlKustomize(ref)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("meshc as transformer (+) differs from the app plus the rendered manifests (-):\n%s", diff)
	}
}

// TestKustomizeInvalidMesh: an invalid Mesh fails the build, and what the
// user sees, meshc's stderr, names every problem by field path. The order is
// that of the document kustomize hands the function, which sorts keys
// (clusters before meshID), not that of the user's file.
func TestKustomizeInvalidMesh(t *testing.T) {
	dir := t.TempDir()
	meshFunction(t, "primary-remote-multi-network", "cluster1", dir)
	mesh := filepath.Join(dir, "mesh.yaml")
	data, err := os.ReadFile(mesh)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(data), "role: remote", "role: remtoe", 1)
	bad = strings.Replace(bad, "meshID: mesh1", "meshID: Mesh1", 1)
	if bad == string(data) {
		t.Fatal("test input unchanged")
	}
	writeFile(t, mesh, bad)
	writeFile(t, filepath.Join(dir, "kustomization.yaml"), "generators:\n  - mesh.yaml\n")

	var out string
	stderr := captureStderr(t, func() { out, err = build(dir) })
	if err == nil {
		t.Fatalf("build succeeded on an invalid Mesh:\n%s", out)
	}
	if !strings.Contains(err.Error(), "exit status 1") {
		t.Errorf("build error does not report meshc's exit status 1: %v", err)
	}
	want := `Mesh primary-remote-multi-network: spec.clusters[1].role: must be "primary" or "remote", got "remtoe"
Mesh primary-remote-multi-network: spec.meshID: must be a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters), got "Mesh1"
`
	if diff := cmp.Diff(want, stderr); diff != "" {
		t.Errorf("meshc's stderr under kustomize build (-want +got):\n%s", diff)
	}
}

// captureStderr runs f with the process's stderr redirected: kustomize
// hands an exec function os.Stderr as the child's stderr.
func captureStderr(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	defer func() { os.Stderr = saved }()
	f()
	os.Stderr = saved
	w.Close()
	return <-done
}

// TestFnRun runs the function the way `kustomize fn run DIR --enable-exec`
// does (kyaml's runfn, which that command wraps) on a directory holding the
// Mesh: the cluster's manifests land where `meshc render` puts them, the
// Mesh stays, and a second run replaces its own files instead of adding
// copies.
func TestFnRun(t *testing.T) {
	const example, cluster = "primary-remote-multi-network", "cluster1"
	dir := t.TempDir()
	meshFunction(t, example, cluster, dir)
	mesh, err := os.ReadFile(filepath.Join(dir, "mesh.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	rendered := filepath.Join("../golden", example, cluster, "manifests")
	want := golden.ReadTree(t, rendered)
	delete(want, "kustomization.yaml")

	for run := 1; run <= 2; run++ {
		fn := runfn.RunFns{Path: dir, EnableExec: true, WorkingDir: dir}
		if err := fn.Execute(); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		got := golden.ReadTree(t, filepath.Join(dir, cluster, "manifests"))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("run %d: files written by kustomize fn run differ from %s (-render +fn run):\n%s", run, rendered, diff)
		}
		after, err := os.ReadFile(filepath.Join(dir, "mesh.yaml"))
		if err != nil {
			t.Fatalf("run %d: the Mesh is gone: %v", run, err)
		}
		if diff := cmp.Diff(string(mesh), string(after)); diff != "" {
			t.Errorf("run %d: kustomize fn run changed the Mesh (-before +after):\n%s", run, diff)
		}
	}
}
