package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/output"
)

// canaryPair renders the Mesh at path as the old side of a canary upgrade,
// and, as the new side, the same Mesh with the next minor release installed
// as revision 1-<minor> and every tag pointed at it. edit, if not nil,
// changes both Meshes' input first.
func canaryPair(t *testing.T, path string, edit func(spec map[string]any)) (oldM, newM *mesh.Mesh, oldDir, newDir string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	spec := doc["spec"].(map[string]any)
	if edit != nil {
		edit(spec)
	}
	oldM, oldDir = renderDoc(t, "old", doc)
	istio := spec["istio"].(map[string]any)
	minor := oldM.IstioMinor() + 1
	rev := fmt.Sprintf("1-%d", minor)
	istio["version"] = fmt.Sprintf("1.%d.0", minor)
	istio["revision"] = rev
	for _, tag := range istio["tags"].([]any) {
		tag.(map[string]any)["revision"] = rev
	}
	newM, newDir = renderDoc(t, "new", doc)
	return oldM, newM, oldDir, newDir
}

// renderDoc compiles a Mesh document and writes its output.
func renderDoc(t *testing.T, name string, doc map[string]any) (*mesh.Mesh, string) {
	t.Helper()
	data, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	m, out, err := compiler.Compile(name+".yaml", data)
	if err != nil {
		t.Fatalf("meshc rejects the %s Mesh: %v", name, err)
	}
	dir := filepath.Join(t.TempDir(), name)
	if err := output.Write(out, dir); err != nil {
		t.Fatal(err)
	}
	return m, dir
}

// TestCanary runs a canary upgrade of each revisioned example (istioctl and
// Helm, a primary and a remote each) and of a multi-primary Helm mesh to the
// next release: every tagged
// namespace is injected and served by the old revision until the tags move,
// then by the new.
func TestCanary(t *testing.T) {
	for _, p := range []string{revisionsExample, helmRevisionsExample, helmRevisionsMultiPrimary} {
		t.Run(strings.TrimSuffix(filepath.Base(p), ".yaml"), func(t *testing.T) {
			oldM, newM, oldDir, newDir := canaryPair(t, p, nil)
			if err := VerifyCanary(oldM, newM, oldDir, newDir); err != nil {
				t.Errorf("canary %s → %s:\n%v", oldM.Spec.Istio.Revision, newM.Spec.Istio.Revision, err)
			}
		})
	}
}

// TestCanaryFindings breaks the new side in one place and requires the
// finding naming the file: a tag left on the old revision after the move,
// a remote's tag webhook injecting for another cluster and network, or for
// another network only (the injected sidecar's metadata), and the new
// revision's istiod route answering the old revision's server name too.
func TestCanaryFindings(t *testing.T) {
	tests := []struct{ name, file, old, new, want string }{{
		name: "tag not moved", file: "cluster1/manifests/revision-tags.yaml",
		old: "name: istiod-1-31", new: "name: istiod-1-30",
		want: "new/cluster1/manifests/revision-tags.yaml: with the tags moved, in cluster1, namespace shop",
	}, {
		name: "remote tag webhook injecting for the primary's network", file: "cluster2/manifests/revision-tags.yaml",
		old: "/inject/cluster/cluster2/net/network2", new: "/inject/cluster/cluster1/net/network1",
		want: `calls path /inject/cluster/cluster1/net/network1, want /inject/cluster/cluster2/net/network2`,
	}, {
		name: "remote tag webhook naming only another network", file: "cluster2/manifests/revision-tags.yaml",
		old: `"/inject/cluster/cluster2/net/network2"`, new: `"/inject/net/network1"`,
		want: `the injected proxy's ISTIO_META_NETWORK: got "network1", want "network2"`,
	}, {
		name: "route by every server name", file: "cluster1/manifests/expose-istiod.yaml",
		old: "            - istiod-1-31.istio-system.svc\n", new: "            - istiod-1-30.istio-system.svc\n",
		want: "2 istiod routes match",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oldM, newM, oldDir, newDir := canaryPair(t, revisionsExample, nil)
			editFirst(t, newDir, tt.file, tt.old, tt.new)
			err := VerifyCanary(oldM, newM, oldDir, newDir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("VerifyCanary = %v, want a finding containing %q", err, tt.want)
			}
		})
	}
}

// TestCanaryIstiodHostname installs a revision in a mesh whose remote
// reaches its primary's istiod by hostname (the remote's webhooks dial
// https://<hostname>:15017): one revision works, but with two, both
// revisions' routes match the webhook's server name, the hostname, so the
// check reports what rule MC078 refuses a change plan for.
func TestCanaryIstiodHostname(t *testing.T) {
	oldM, newM, oldDir, newDir := canaryPair(t, "testdata/helm-istiod-hostname.yaml", func(spec map[string]any) {
		spec["istio"].(map[string]any)["revision"] = "1-28"
		spec["istio"].(map[string]any)["tags"] = []any{map[string]any{"name": "prod", "revision": "1-28"}}
		spec["namespaces"] = []any{map[string]any{"name": "shop", "tag": "prod"}}
	})
	err := VerifyCanary(oldM, newM, oldDir, newDir)
	if err == nil {
		t.Fatal("VerifyCanary accepted two revisions behind one istiod hostname")
	}
	ambiguous := 0
	for _, p := range problemsOf(CheckCanary, err) {
		switch {
		case strings.HasPrefix(p.Message, "before the upgrade"):
			t.Errorf("one revision behind the hostname: %s: %s", p.Pos.Filename, p.Message)
		case strings.Contains(p.Message, "2 istiod routes match"):
			ambiguous++
		default:
			t.Errorf("unexpected finding: %s: %s", p.Pos.Filename, p.Message)
		}
	}
	if ambiguous == 0 {
		t.Errorf("no finding of two istiod routes for one server name:\n%v", err)
	}
}

// TestCanaryStaged runs the canary example of spec.istio.previous: from its
// previous revision alone (every tag on it) to the example itself, which
// keeps that revision installed and points one tag at each.
func TestCanaryStaged(t *testing.T) {
	const p = "../examples/canary-argocd/mesh.yaml"
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	newM, newDir := renderDoc(t, "new", doc)
	istio := doc["spec"].(map[string]any)["istio"].(map[string]any)
	prev := istio["previous"].(map[string]any)
	istio["version"], istio["revision"] = prev["version"], prev["revision"]
	delete(istio, "previous")
	for _, tag := range istio["tags"].([]any) {
		tag.(map[string]any)["revision"] = prev["revision"]
	}
	oldM, oldDir := renderDoc(t, "old", doc)
	if err := VerifyCanary(oldM, newM, oldDir, newDir); err != nil {
		t.Errorf("canary %s → %s beside it:\n%v", oldM.Spec.Istio.Revision, newM.Spec.Istio.Revision, err)
	}
}
