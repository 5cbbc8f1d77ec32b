package conformance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The examples with a revision and tags: istioctl (revisionsExample) and
// Helm (istio-csr), each a primary and a remote.
const (
	revisionsExample     = "../examples/revisions/mesh.yaml"
	helmRevisionsExample = "../examples/istio-csr/mesh.yaml"
	// Revisioned primaries reading each other, and VMs.
	helmRevisionsMultiPrimary = "testdata/helm-multi-primary-revisions.yaml"
)

// TestVerifyRevisionFindings breaks the revisioned output in one place at a
// time and requires the finding that names the file: a tag webhook or
// Service that is no longer what Istio's istiod chart renders for the tag,
// an install without the revision, and a default validator calling an
// istiod that does not exist.
func TestVerifyRevisionFindings(t *testing.T) {
	tests := []struct {
		name, example, file, old, new, want string
	}{{
		name: "tag webhook selecting another tag", example: revisionsExample, file: "cluster1/manifests/revision-tags.yaml",
		old: "            - prod\n        - key: istio-injection", new: "            - prd\n        - key: istio-injection",
		want: "MutatingWebhookConfiguration istio-revision-tag-prod differs from what Istio's istiod chart renders",
	}, {
		name: "remote tag webhook on the primary's path", example: revisionsExample, file: "cluster2/manifests/revision-tags.yaml",
		old: `path: "/inject/cluster/cluster2/net/network2"`, new: `path: "/inject"`,
		want: "MutatingWebhookConfiguration istio-revision-tag-prod differs",
	}, {
		name: "tag webhook calling another revision", example: revisionsExample, file: "cluster1/manifests/revision-tags.yaml",
		old: "name: istiod-1-30", new: "name: istiod-1-29",
		want: "MutatingWebhookConfiguration istio-revision-tag-prod differs",
	}, {
		name: "tag Service selecting another revision", example: revisionsExample, file: "cluster1/manifests/revision-tags.yaml",
		old: "    app: istiod\n    istio.io/rev: \"1-30\"\n---", new: "    app: istiod\n    istio.io/rev: \"1-29\"\n---",
		want: "Service istiod-revision-tag-prod differs",
	}, {
		name: "tag without its Service", example: revisionsExample, file: "cluster2/manifests/revision-tags.yaml",
		old: "  name: istiod-revision-tag-canary", new: "  name: istiod-revision-tag-canry",
		want: "no Service istiod-revision-tag-canary, which Istio's istiod chart renders",
	}, {
		name: "helm: tag webhook failing open", example: helmRevisionsExample, file: "cluster2/manifests/revision-tags.yaml",
		old: "failurePolicy: Fail", new: "failurePolicy: Ignore",
		want: "MutatingWebhookConfiguration istio-revision-tag-prod differs",
	}, {
		name: "install without the revision", example: revisionsExample, file: "cluster1/install/istio.yaml",
		old: "  revision: \"1-30\"\n", new: "",
		want: "revision 1-30: Istio generated no Deployment istiod-1-30",
	}, {
		name: "helm: remote install without the revision", example: helmRevisionsExample, file: "cluster2/helm/istiod.values.yaml",
		old: "revision: \"1-28\"\n", new: "",
		want: "revision 1-28: Istio generated no Service istiod-1-28",
	}, {
		name: "helm: default validator calling the default revision", example: helmRevisionsExample, file: "cluster1/helm/base.values.yaml",
		old: "defaultRevision: \"1-28\"", new: "{}",
		want: "istiod-default-validator webhook validation.istio.io calls Service istiod, want istiod-1-28",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, dir := renderExample(t, tt.example)
			editFirst(t, dir, tt.file, tt.old, tt.new)
			err := Verify(m, dir)
			if err == nil {
				t.Fatal("Verify accepted the broken output")
			}
			for _, want := range []string{tt.file + ": ", tt.want} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not contain %q:\n%v", want, err)
				}
			}
		})
	}
}

// editFirst replaces the first occurrence of old in a rendered file with
// new; the file must contain old.
func editFirst(t *testing.T, dir, file, old, new string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(file))
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s does not contain %q", file, old)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}
