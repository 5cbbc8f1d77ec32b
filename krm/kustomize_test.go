package krm_test

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// update is the one switch that regenerates golden files in every package:
// MESHC_UPDATE=1 go test ./...
var update = os.Getenv("MESHC_UPDATE") != ""

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
// in a clone, so the test builds exactly the example the README shows.
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

func compareGolden(t *testing.T, golden, got string) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run MESHC_UPDATE=1 go test ./... to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("output differs from %s (-golden +got); if the change is intended, run MESHC_UPDATE=1 go test ./... and review the diff:\n%s", golden, diff)
	}
}

// TestKustomizeOverlays builds each overlay of examples/kustomize, as the
// README tells users to, and compares it with golden/kustomize/<overlay>.yaml.
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
