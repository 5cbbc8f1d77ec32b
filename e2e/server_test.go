package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"meshc.dev/meshc/mesh"
)

// TestRenderedObjectsOnAPIServer hands every object meshc renders for a
// cluster to apply with kubectl (manifests/, ca/, remote-access/,
// remote-secrets/) of every example and e2e mesh to a real API server that
// holds Istio's, the Gateway API's and cert-manager's CRDs, as a
// server-side dry run: the server's own validation (OpenAPI schemas with
// their limits, CEL rules, defaulting, admission), which the conformance
// suite's decoding into Go types does not run. Namespaces meshc renders are
// created for real, so the objects in them can be checked, and so is
// cert-manager's, which the plan requires to exist; nothing else is created.
func TestRenderedObjectsOnAPIServer(t *testing.T) {
	if tools == nil {
		t.Skip("runs with MESHC_E2E=1 (make e2e)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	dir := t.TempDir()
	f, err := StartFleet(dir, tools)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop()
	if _, err := f.AddCluster(ctx, "validation", "validation"); err != nil {
		t.Fatal(err)
	}
	kubectl := func(stdin []byte, args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig=" + f.Kubeconfig, "--context=validation"}, args...)...)
		if stdin != nil {
			cmd.Stdin = bytes.NewReader(stdin)
		}
		return cmd.CombinedOutput()
	}

	crds, err := crdFiles()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range crds {
		if out, err := kubectl(nil, "apply", "--server-side", "-f", c); err != nil {
			t.Fatalf("CRDs %s: %v\n%s", c, err, out)
		}
	}
	if out, err := kubectl(nil, "wait", "--for=condition=Established", "crd", "--all", "--timeout=120s"); err != nil {
		t.Fatalf("CRDs not established: %v\n%s", err, out)
	}

	meshes, _ := filepath.Glob(filepath.Join(root, "examples", "*", "mesh.yaml"))
	more, _ := filepath.Glob(filepath.Join(root, "e2e", "testdata", "*.yaml"))
	meshes = append(meshes, more...)
	if len(meshes) < 15 {
		t.Fatalf("only %d meshes", len(meshes))
	}
	objects := 0
	for _, m := range meshes {
		name, _ := filepath.Rel(root, m)
		out := filepath.Join(dir, "out", strings.NewReplacer("/", "_", ".", "_").Replace(name))
		if b, err := exec.Command(meshc, "render", m, "-o", out).CombinedOutput(); err != nil {
			t.Errorf("%s: meshc render: %v\n%s", name, err, b)
			continue
		}
		// What the plan requires before it applies anything: cert-manager
		// installed, so its namespace exists (the cert-manager phase checks).
		if mm, err := mesh.LoadFile(m); err == nil && mm.Spec.CA.CertManager != nil {
			ns := []byte("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + mm.Spec.CA.CertManager.Namespace + "\n")
			if b, err := kubectl(ns, "apply", "-f", "-"); err != nil {
				t.Fatalf("%s: cert-manager's namespace: %v\n%s", name, err, b)
			}
		}
		clusters, _ := filepath.Glob(filepath.Join(out, "*", "manifests"))
		for _, man := range clusters {
			cluster := filepath.Dir(man)
			for _, sub := range []string{"manifests", "ca", "remote-access", "remote-secrets"} {
				docs, err := objectsToApply(kubectl, filepath.Join(cluster, sub))
				if err != nil {
					t.Errorf("%s: %s/%s: %v", name, filepath.Base(cluster), sub, err)
					continue
				}
				var namespaces [][]byte
				for _, d := range docs {
					if kindOf(d) == "Namespace" {
						namespaces = append(namespaces, d)
					}
				}
				if len(namespaces) > 0 {
					if b, err := kubectl(bytes.Join(namespaces, []byte("\n---\n")), "apply", "-f", "-"); err != nil {
						t.Errorf("%s: %s/%s: namespaces: %v\n%s", name, filepath.Base(cluster), sub, err, b)
					}
				}
				if len(docs) == 0 {
					continue
				}
				objects += len(docs)
				if b, err := kubectl(bytes.Join(docs, []byte("\n---\n")), "apply", "--dry-run=server", "-f", "-"); err != nil {
					t.Errorf("%s: %s/%s: the API server refuses it: %v\n%s", name, filepath.Base(cluster), sub, err, b)
				}
			}
		}
	}
	t.Logf("%d objects of %d meshes accepted", objects, len(meshes))

	// The server refuses what its CRDs forbid: the federation example's
	// istio-remote Gateway with 17 addresses (the Gateway API allows 16).
	docs, err := objectsToApply(kubectl, filepath.Join(dir, "out", "examples_federation-east_mesh_yaml", "east1", "manifests"))
	if err != nil {
		t.Fatal(err)
	}
	mutated := false
	for _, d := range docs {
		var o map[string]any
		if err := yaml.Unmarshal(d, &o); err != nil || o["kind"] != "Gateway" || !strings.HasPrefix(fmt.Sprint(o["apiVersion"]), "gateway.networking.k8s.io/") {
			continue
		}
		var addrs []any
		for i := range 17 {
			addrs = append(addrs, map[string]any{"type": "IPAddress", "value": fmt.Sprintf("198.51.100.%d", i+1)})
		}
		o["spec"].(map[string]any)["addresses"] = addrs
		b, _ := yaml.Marshal(o)
		out, err := kubectl(b, "apply", "--dry-run=server", "-f", "-")
		if err == nil || !strings.Contains(string(out), "must have at most 16 items") {
			t.Errorf("a Gateway with 17 addresses: %v\n%s", err, out)
		}
		mutated = true
	}
	if !mutated {
		t.Error("federation-east's east1 renders no Gateway API Gateway to mutate")
	}
}

// objectsToApply are the objects of one rendered directory as kubectl
// would apply them: kustomize's build where it has a kustomization, else
// its YAML files. A directory that is not there has none.
func objectsToApply(kubectl func([]byte, ...string) ([]byte, error), dir string) ([][]byte, error) {
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return nil, nil
	}
	var stream []byte
	if _, err := os.Stat(filepath.Join(dir, "kustomization.yaml")); err == nil {
		b, err := kubectl(nil, "kustomize", dir)
		if err != nil {
			return nil, fmt.Errorf("kubectl kustomize: %v\n%s", err, b)
		}
		stream = b
	} else {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			stream = append(append(stream, b...), "\n---\n"...)
		}
	}
	var docs [][]byte
	for _, d := range bytes.Split(stream, []byte("\n---\n")) {
		if kindOf(d) != "" {
			docs = append(docs, d)
		}
	}
	return docs, nil
}

// kindOf is a document's kind, or "" for a document with none (comments).
func kindOf(doc []byte) string {
	var o struct{ Kind string }
	if err := yaml.Unmarshal(doc, &o); err != nil {
		return "?"
	}
	return o.Kind
}

// crdFiles are the CRDs the rendered objects need: Istio's (from the
// pinned commit's base chart), the Gateway API's standard channel (the
// version the conformance module pins, from the module cache) and the
// cert-manager, Argo CD and External Secrets CRDs the conformance suite
// keeps.
func crdFiles() ([]string, error) {
	files := []string{filepath.Join(tools["istio"], "charts", "base", "files", "crd-all.gen.yaml")}
	cmd := exec.Command("go", "list", "-m", "-json", "sigs.k8s.io/gateway-api")
	cmd.Dir = filepath.Join(root, "conformance")
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list sigs.k8s.io/gateway-api in conformance: %v", err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		return nil, fmt.Errorf("no module directory for sigs.k8s.io/gateway-api (%v); run make conformance first", err)
	}
	gw, _ := filepath.Glob(filepath.Join(mod.Dir, "config", "crd", "standard", "*.yaml"))
	kept, _ := filepath.Glob(filepath.Join(root, "conformance", "testdata", "crds", "*.yaml"))
	if len(gw) == 0 || len(kept) == 0 {
		return nil, fmt.Errorf("missing CRDs: %d of the Gateway API, %d kept by conformance", len(gw), len(kept))
	}
	return append(append(files, gw...), kept...), nil
}
