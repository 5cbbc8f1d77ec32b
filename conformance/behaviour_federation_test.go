package conformance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBehaviourFederationFindings breaks the federation output one fact at
// a time; istiod must then send the proxies something else, and the finding
// names the file.
func TestBehaviourFederationFindings(t *testing.T) {
	for _, tt := range []struct {
		name, file, old, new, want string
	}{
		{"gateway passes every host", "east1/manifests/federation-gateway.yaml",
			"        - ratings.bookinfo.svc.cluster.local", "        - \"*.local\"",
			"east1/manifests/federation-gateway.yaml: istiod of east1 lets SNI outbound_.9080_._.productpage.bookinfo.svc.cluster.local pass the east-west gateway in east1 on 15443"},
		{"exported host does not pass", "east2/manifests/federation-gateway.yaml",
			"        - ratings.bookinfo.svc.cluster.local", "        - details.bookinfo.svc.cluster.local",
			"east2/manifests/federation-gateway.yaml: istiod of east2 gives the east-west gateway in east2 no 15443 filter chain for SNI outbound_.9080_._.ratings.bookinfo.svc.cluster.local"},
		// The remote Gateway, not the ServiceEntry's endpoints, decides where
		// sidecars send the peer's traffic: its port shows in their endpoints.
		{"peer gateway on another port", "east1/manifests/federation-peers.yaml",
			"    - name: cross-network\n      port: 15443", "    - name: cross-network\n      port: 15444",
			"the sidecar in east1 gets [198.51.100.20:15444(east1)×1 198.51.100.21:15444(east1)×1] for outbound|9080||reviews.bookinfo.svc.cluster.local"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, dir := renderExample(t, "../examples/federation-east/mesh.yaml")
			edit(t, dir, tt.file, tt.old, tt.new)
			err := VerifyBehaviour(m, dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("VerifyBehaviour = %v\nwant a finding containing %q", err, tt.want)
			}
		})
	}
}

// TestBehaviourGatewayAPICRDs: a cluster's API server serves the Gateway
// API only if the plan installs its CRDs before it applies the peers'
// istio-remote Gateways; otherwise kubectl refuses them and istiod never
// learns the peer's gateways. The plan is rewritten both ways, so the test
// holds whatever plan meshc renders.
func TestBehaviourGatewayAPICRDs(t *testing.T) {
	const install = "kubectl --context=east1 apply --server-side -f https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.3.0/standard-install.yaml\n"
	refused := "east1/manifests/federation-peers.yaml: kubectl refuses Gateway peer-west: no step of plan.sh installs the Gateway API CRDs in east1 before it applies this file"
	for _, tt := range []struct {
		name    string
		step    string
		refuses bool
	}{{"no step installs the CRDs", "", true}, {"a step installs them first", install, false}} {
		t.Run(tt.name, func(t *testing.T) {
			m, dir := renderExample(t, "../examples/federation-east/mesh.yaml")
			p := filepath.Join(dir, "plan.sh")
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			inserted := false
			for _, line := range strings.SplitAfter(string(data), "\n") {
				if strings.Contains(line, "gateway-api") || strings.Contains(line, "gateway.networking.k8s.io") {
					continue
				}
				if !inserted && strings.HasPrefix(line, "echo '==> ") {
					lines, inserted = append(lines, tt.step), true
				}
				lines = append(lines, line)
			}
			if err := os.WriteFile(p, []byte(strings.Join(lines, "")), 0o755); err != nil {
				t.Fatal(err)
			}
			err = VerifyBehaviour(m, dir)
			if got := err != nil && strings.Contains(err.Error(), refused); got != tt.refuses {
				t.Errorf("finding %q: %v, want %v; findings:\n%v", refused, got, tt.refuses, err)
			}
		})
	}
}

// TestScenarioPeerIdentity sets each primary's trustDomainAliases directly:
// with the peer's trust domain among them, the peer's identity passes the
// AuthorizationPolicy written for the mesh's own, and the finding names the
// control plane's file; without it, nothing is found.
func TestScenarioPeerIdentity(t *testing.T) {
	m, dir := renderExample(t, "../examples/federation-east/mesh.yaml")
	want := "east1/install/istio.yaml: istiod of east1 lets the peer's identity spiffe://west.example.com/ns/meshc-sample/sa/sample pass an AuthorizationPolicy that allows east.example.com/ns/meshc-sample/sa/sample"
	for _, aliases := range [][]string{nil, {"west.example.com"}} {
		s, _ := behaviourWorld(m, dir)
		for _, c := range s.Clusters {
			if c.Istiod != nil {
				c.Istiod.MeshConfig.TrustDomainAliases = aliases
			}
		}
		err := s.Check()
		if got := err != nil && strings.Contains(err.Error(), want); got != (aliases != nil) {
			t.Errorf("trustDomainAliases %v: finding %q: %v, want %v; findings:\n%v", aliases, want, got, aliases != nil, err)
		}
	}
}

// TestScenarioProxyConfigAgent: a sidecar of a federated mesh that starts
// without the proxy config agent is a finding against the file its
// metadata comes from.
func TestScenarioProxyConfigAgent(t *testing.T) {
	m, dir := renderExample(t, "../examples/federation-east/mesh.yaml")
	s, _ := behaviourWorld(m, dir)
	want := "the sidecar in east1 starts without PROXY_CONFIG_XDS_AGENT=true"
	if err := s.Check(); err != nil && strings.Contains(err.Error(), want) {
		t.Fatalf("the injected sidecars already lack the agent:\n%v", err)
	}
	for _, p := range s.Proxies {
		if p.Cluster == "east1" && !p.Gateway && p.ProxyMetadata != nil {
			delete(p.ProxyMetadata, "PROXY_CONFIG_XDS_AGENT")
			want = p.MetadataFile + ": " + want
		}
	}
	if err := s.Check(); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("no finding contains %q:\n%v", want, err)
	}
}

// TestVerifyPeersFindings sends one mesh's imports to a gateway of the
// peer on a network where the peer does not run the host (what meshc
// rendered for a multi-network peer before issue 23): the pair check must
// name the importing mesh's file, the gateway and where the host runs.
func TestVerifyPeersFindings(t *testing.T) {
	mn, dirN := renderExample(t, "../examples/federation-north/mesh.yaml")
	ms, dirS := renderExample(t, "../examples/federation-south/mesh.yaml")
	edit(t, dirN, "north2/manifests/federation-peers.yaml",
		"  endpoints:\n    - address: \"198.51.100.40\"\n      network: south-net2\n      labels:\n        security.istio.io/tlsMode: istio\n      ports:\n        http: 15443\n---",
		"  endpoints:\n    - address: \"198.51.100.30\"\n      network: south-net1\n      labels:\n        security.istio.io/tlsMode: istio\n      ports:\n        http: 15443\n    - address: \"198.51.100.40\"\n      network: south-net2\n      labels:\n        security.istio.io/tlsMode: istio\n      ports:\n        http: 15443\n---")
	err := VerifyPeers(mn, dirN, ms, dirS)
	t.Logf("findings:\n%v", err)
	want := "federation-north/north2/manifests/federation-peers.yaml: sidecars send reviews.bookinfo.svc.cluster.local to federation-south's gateway 198.51.100.30"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("no finding contains %q:\n%v", want, err)
	}
}
