package conformance

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"meshc.dev/meshc/render"
)

var gitopsExamples = map[string]string{
	"argocd": "../examples/gitops-argocd/mesh.yaml",
	"flux":   "../examples/gitops-flux/mesh.yaml",
}

// TestGitOpsExamples checks the GitOps tree of every example that has one
// and of testdata/gitops/*.yaml.
func TestGitOpsExamples(t *testing.T) {
	paths, err := filepath.Glob("../examples/gitops-*/mesh.yaml")
	if err != nil || len(paths) < 2 {
		t.Fatalf("want the gitops examples (%v)", err)
	}
	// What the examples leave out: secrets out of band, the repository's
	// root. Kept apart from testdata/*.yaml, which other tests also render
	// with installer: istioctl.
	extra, _ := filepath.Glob("testdata/gitops/*.yaml")
	for _, p := range append(paths, extra...) {
		name := strings.TrimSuffix(filepath.Base(p), ".yaml")
		if name == "mesh" {
			name = filepath.Base(filepath.Dir(p))
		}
		t.Run(name, func(t *testing.T) {
			m, dir := renderExample(t, p)
			if err := Verify(m, dir); err != nil {
				t.Errorf("Istio does not accept the output of %s:\n%v", p, err)
			}
			if err := VerifyGitOps(m, dir); err != nil {
				t.Errorf("the GitOps tree of %s:\n%v", p, err)
			}
		})
	}
}

// TestVerifyGitOpsFindings breaks the GitOps tree one fact at a time and
// requires a finding that names the file.
func TestVerifyGitOpsFindings(t *testing.T) {
	for _, tc := range []struct {
		name, engine, file, old, new, want string
	}{
		{"unknown HelmRelease field", "flux", "gitops/clusters/cluster1/istiod/helmrelease.yaml",
			"releaseName: istiod", "releaseName: istiod\n  valuesFile: x", `HelmRelease cluster1-istiod: error unmarshaling JSON: while decoding JSON: json: unknown field "valuesFile"`},
		{"unknown Kustomization field", "flux", "gitops/fleet/cluster1.yaml",
			"  wait: true\n---", "  wait: true\n  waitFor: all\n---", `gitops/fleet/cluster1.yaml: Kustomization cluster1-istio-system: error unmarshaling JSON: while decoding JSON: json: unknown field "waitFor"`},
		{"istiod not after base", "flux", "gitops/fleet/cluster2.yaml",
			"  - name: cluster2-istio-base\n  healthChecks:\n  - apiVersion: helm.toolkit.fluxcd.io/v2\n    kind: HelmRelease\n    name: cluster2-istiod",
			"  - name: cluster2-istio-system\n  healthChecks:\n  - apiVersion: helm.toolkit.fluxcd.io/v2\n    kind: HelmRelease\n    name: cluster2-istiod",
			"Kustomization cluster2-istiod (phase primaries) does not wait for cluster2-istio-base (phase base)"},
		{"release not health-checked", "flux", "gitops/fleet/cluster1.yaml",
			"    name: cluster1-istio-base\n", "    name: cluster1-istio-system\n", "does not wait for HelmRelease cluster1-istio-base"},
		{"values drift", "flux", "gitops/clusters/cluster2/istiod/helmrelease.yaml",
			"network: network2", "network: network1", "values differ from cluster2/istiod's helm/ values"},
		{"Namespace owned twice", "flux", "gitops/clusters/cluster1/manifests/kustomization.yaml",
			"    $patch: delete\n", "", "two owners"},
		{"unlisted file", "flux", "gitops/clusters/cluster1/istio-system/kustomization.yaml",
			"- cacerts.yaml\n", "", "gitops/clusters/cluster1/istio-system/cacerts.yaml: not a resource"},
		{"unknown Application field", "argocd", "gitops/fleet/cluster1.yaml",
			"  name: cluster1-istio-system\n  namespace: argocd\nspec:\n", "  name: cluster1-istio-system\n  namespace: argocd\nspec:\n  syncpolicy: {}\n",
			`gitops/fleet/cluster1.yaml: Application cluster1-istio-system: unknown field "spec.syncpolicy"`},
		{"ExternalSecret enum", "argocd", "gitops/clusters/cluster1/istio-system/cacerts.yaml",
			"creationPolicy: Owner", "creationPolicy: Own", "gitops/clusters/cluster1/istio-system/cacerts.yaml: ExternalSecret cacerts: spec.target.creationPolicy: Unsupported value"},
		{"wave out of order", "argocd", "gitops/fleet/cluster2.yaml",
			// The remote's install moved to the primary's gateways' wave, before
			// the primary's expose: waves are the plan's phases.
			fmt.Sprintf(`sync-wave: "%d"`, render.PhaseOrder(render.PhaseRemotes)), fmt.Sprintf(`sync-wave: "%d"`, render.PhaseOrder(render.PhasePrimaryGateways)),
			fmt.Sprintf("phase expose (wave %d) is not synced before phase remotes (wave %d)", render.PhaseOrder(render.PhaseExpose), render.PhaseOrder(render.PhasePrimaryGateways))},
		{"no ignoreDifferences", "argocd", "gitops/fleet/cluster1.yaml",
			"    - .webhooks[]?.failurePolicy\n    kind: ValidatingWebhookConfiguration\n  project: gitops-argocd\n  sources:\n  - chart: base",
			"    - .webhooks[]?.failurePolicy\n    kind: MutatingWebhookConfiguration\n  project: gitops-argocd\n  sources:\n  - chart: base",
			"no ignoreDifferences for the webhook failurePolicy"},
		{"destination outside the project", "argocd", "gitops/fleet/project.yaml",
			"server: https://198.51.100.2:6443", "server: https://198.51.100.3:6443", "is not allowed by AppProject gitops-argocd"},
		{"project after its Applications", "argocd", "gitops/fleet/project.yaml",
			`sync-wave: "-1"`, `sync-wave: "3"`, "is synced before its AppProject"},
		{"values file of another cluster", "argocd", "gitops/fleet/cluster2.yaml",
			"$values/meshes/mesh1/cluster2/helm/istiod.values.yaml", "$values/meshes/mesh1/cluster1/helm/istiod.values.yaml", "is not its cluster's"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, dir := renderExample(t, gitopsExamples[tc.engine])
			edit(t, dir, tc.file, tc.old, tc.new)
			err := VerifyGitOps(m, dir)
			if err == nil {
				t.Fatalf("no finding")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("want a finding with %q, got:\n%v", tc.want, err)
			}
		})
	}
}
