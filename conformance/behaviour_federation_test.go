package conformance

import (
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
