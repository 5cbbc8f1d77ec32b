package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	securityv1 "istio.io/client-go/pkg/apis/security/v1"
	"istio.io/istio/pilot/pkg/security/trustdomain"

	"meshc.dev/meshc/internal/docstest"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/render"
)

// TestDocsPeerAuthorizationPolicy checks the AuthorizationPolicy that
// docs/federation.md shows for authorizing a peer's workloads in
// examples/federation-north: Istio accepts it, it names an identity north
// imports from south and a workload north exports, and with the mesh config
// north renders istiod matches its principal only as south's identity
// (trustdomain.Bundle, what istiod applies to every policy), while a
// principal of north's own trust domain never matches south's workloads.
func TestDocsPeerAuthorizationPolicy(t *testing.T) {
	doc, err := os.ReadFile("../docs/federation.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for _, b := range docstest.Parse(string(doc)).Blocks {
		if b.Mark == "test" && b.Arg == "TestDocsPeerAuthorizationPolicy" {
			blocks = append(blocks, b.Text)
		}
	}
	if len(blocks) == 0 {
		t.Fatal("docs/federation.md has no block marked <!-- test: TestDocsPeerAuthorizationPolicy -->")
	}
	for i, block := range blocks {
		t.Run(fmt.Sprint(i), func(t *testing.T) { checkDocsPeerPolicy(t, block) })
	}
}

// checkDocsPeerPolicy checks one policy of docs/federation.md: Istio
// accepts it, it names only identities north imports from south, on a
// workload north exports to south, and istiod matches its principals as
// they are written.
func checkDocsPeerPolicy(t *testing.T, block string) {
	var ap securityv1.AuthorizationPolicy
	if err := yaml.UnmarshalStrict([]byte(block), &ap); err != nil {
		t.Fatalf("the policy does not decode: %v", err)
	}
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte(block), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Validate(path); err != nil {
		t.Fatalf("Istio rejects the policy: %v", err)
	}

	m, dir := renderExample(t, federationNorth)
	var south *mesh.Peer
	for i := range m.Spec.Peers {
		if m.Spec.Peers[i].MeshID == "south" {
			south = &m.Spec.Peers[i]
		}
	}
	if south == nil {
		t.Fatal("federation-north has no peer south")
	}
	var principals []string
	for _, r := range ap.Spec.GetRules() {
		for _, f := range r.GetFrom() {
			principals = append(principals, f.GetSource().GetPrincipals()...)
		}
	}
	if len(principals) == 0 {
		t.Fatal("the policy names no principal")
	}
	for _, pr := range principals {
		if !slices.ContainsFunc(south.Imports, func(s mesh.ImportedService) bool {
			return slices.Contains(s.Identities, "spiffe://"+pr)
		}) {
			t.Errorf("principal %s is no identity north imports from south", pr)
		}
	}
	// The sample workloads of a service carry app: <service name>.
	app := ap.Spec.GetSelector().GetMatchLabels()["app"]
	if !slices.ContainsFunc(south.Exports, func(e mesh.PeerService) bool {
		return e.Host == app+"."+ap.Namespace+".svc."+mesh.ClusterDomain
	}) {
		t.Errorf("the policy selects app=%s in %s, which north does not export to south", app, ap.Namespace)
	}

	for _, c := range m.Spec.Clusters {
		objs, err := Generate(filepath.Join(dir, c.Name, render.InstallDir, render.ControlPlaneFile), releaseWarnings(m)...)
		if err != nil {
			t.Fatal(err)
		}
		mc, err := meshConfig(objs, "")
		if err != nil {
			t.Fatal(err)
		}
		bundle := trustdomain.NewBundle(mc.GetTrustDomain(), mc.GetTrustDomainAliases())
		if got := bundle.ReplaceTrustDomainAliases(principals); !slices.Equal(got, principals) {
			t.Errorf("%s: istiod matches the policy's principals %v as %v: south's identities merge with north's", c.Name, principals, got)
		}
		own := m.Spec.TrustDomain + "/ns/bookinfo/sa/bookinfo-reviews"
		for _, got := range bundle.ReplaceTrustDomainAliases([]string{own}) {
			if strings.HasPrefix(got, south.TrustDomain+"/") {
				t.Errorf("%s: a policy for north's own %s also admits %s", c.Name, own, got)
			}
		}
	}
}
