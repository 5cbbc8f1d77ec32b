package conformance

import (
	"strings"
	"testing"
)

const (
	federationEast = "../examples/federation-east/mesh.yaml"
	federationWest = "../examples/federation-west/mesh.yaml"
	// Federation across two networks on each side.
	federationNorth = "../examples/federation-north/mesh.yaml"
	// Federation on the Helm path, with remotes and a peer gateway by name.
	federationHelm = "testdata/federation-primary-remote.yaml"
)

// TestVerifyFederationFindings breaks the federation output of the examples
// one fact at a time; each break must be a finding that names the file and
// the fact, so every federation check is shown to fail when it should.
func TestVerifyFederationFindings(t *testing.T) {
	for _, tt := range []struct {
		name, example, file, old, new, want string
	}{
		{"endpoint on the importing mesh's own network", federationEast, "east1/manifests/federation-peers.yaml",
			"    - address: \"198.51.100.20\"\n      network: west-network", "    - address: \"198.51.100.20\"\n      network: east-network",
			`east1/manifests: ServiceEntry west.reviews.bookinfo.svc.cluster.local endpoint 198.51.100.20 network: got "east-network", want "west-network"`},
		{"endpoint port not the gateway's", federationEast, "east2/manifests/federation-peers.yaml",
			"      ports:\n        http: 15443\n    - address: \"198.51.100.21\"", "      ports:\n        http: 9080\n    - address: \"198.51.100.21\"",
			"east2/manifests: ServiceEntry west.reviews.bookinfo.svc.cluster.local endpoint 198.51.100.20: port http goes to 9080, want the peer gateway's 15443"},
		{"identity of another workload", federationWest, "west1/manifests/federation-peers.yaml",
			"sa/bookinfo-ratings", "sa/bookinfo-reviews",
			`west1/manifests: ServiceEntry east.ratings.bookinfo.svc.cluster.local subjectAltNames: got "spiffe://east.example.com/ns/bookinfo/sa/bookinfo-reviews"`},
		// Istio takes a network-labelled listener on 15443 for auto-passthrough
		// even without the listener option; on another port it does not.
		{"remote gateway listener on another port", federationEast, "east1/manifests/federation-peers.yaml",
			"    - name: cross-network\n      port: 15443", "    - name: cross-network\n      port: 15444",
			"east1/manifests: Gateway peer-west for peer west: no listener Istio takes for auto-passthrough on 15443"},
		{"remote gateway at a wrong address", federationEast, "east1/manifests/federation-peers.yaml",
			"      value: \"198.51.100.21\"", "      value: \"198.51.100.22\"",
			"east1/manifests: Gateway peer-west for peer west: addresses [198.51.100.20 198.51.100.22], want the peer's gateways on network west-network [198.51.100.20 198.51.100.21]"},
		{"a host that is not exported passes the gateway", federationEast, "east1/manifests/federation-gateway.yaml",
			"        - ratings.bookinfo.svc.cluster.local", "        - \"*.local\"",
			"east1/manifests: productpage.bookinfo.svc.cluster.local is not exported, but a 15443 AUTO_PASSTHROUGH server of the east-west gateways passes it to peers"},
		{"an exported host does not pass", federationWest, "west2/manifests/federation-gateway.yaml",
			"        - reviews.bookinfo.svc.cluster.local", "        - details.bookinfo.svc.cluster.local",
			"west2/manifests: reviews.bookinfo.svc.cluster.local is exported to peers, but no 15443 AUTO_PASSTHROUGH server of the east-west gateways passes it"},
		{"peer trust domain aliased", federationWest, "west1/install/istio.yaml",
			"    caCertificates:\n", "    trustDomainAliases:\n      - east.example.com\n    caCertificates:\n",
			"west1/install/istio.yaml: mesh config trustDomainAliases [east.example.com]: peer east's trust domain east.example.com is an alias of this mesh's, so its identities pass for this mesh's own"},
		// The Gateway API CRD's limits, which Gateway's Go type does not
		// hold: the API server refuses these (MC070, MC071 keep them out).
		{"remote gateway with 17 addresses", federationEast, "east1/manifests/federation-peers.yaml",
			"      value: \"198.51.100.21\"", "      value: \"198.51.100.21\"" + strings.Repeat("\n    - type: Hostname\n      value: gw.example.com", 15),
			"east1/manifests/federation-peers.yaml: document 1: Gateway spec.addresses: Too many: 17: must have at most 16 items"},
		{"remote gateway with one address twice", federationEast, "east1/manifests/federation-peers.yaml",
			"      value: \"198.51.100.21\"", "      value: \"198.51.100.20\"",
			"east1/manifests/federation-peers.yaml: document 1: Gateway spec.addresses: Invalid value: IPAddress values must be unique"},
		{"two networks of the peer on one remote gateway", federationNorth, "north1/manifests/federation-peers.yaml",
			"      value: \"198.51.100.30\"", "      value: \"198.51.100.30\"\n    - type: IPAddress\n      value: \"198.51.100.40\"",
			"north1/manifests: Gateway peer-south for peer south: addresses [198.51.100.30 198.51.100.40], want the peer's gateways on network south-net1 [198.51.100.30]"},
		{"import endpoint on a network that does not run it", federationNorth, "north2/manifests/federation-peers.yaml",
			"  endpoints:\n    - address: \"198.51.100.40\"\n      network: south-net2\n      labels:\n        security.istio.io/tlsMode: istio\n      ports:\n        http: 15443\n---",
			"  endpoints:\n    - address: \"198.51.100.30\"\n      network: south-net1\n      labels:\n        security.istio.io/tlsMode: istio\n      ports:\n        http: 15443\n    - address: \"198.51.100.40\"\n      network: south-net2\n      labels:\n        security.istio.io/tlsMode: istio\n      ports:\n        http: 15443\n---",
			`north2/manifests: ServiceEntry south.reviews.bookinfo.svc.cluster.local endpoint addresses: got "198.51.100.30,198.51.100.40", want "198.51.100.40"`},
		{"peer root for another trust domain", federationEast, "east2/install/istio.yaml",
			"        trustDomains:\n          - west.example.com", "        trustDomains:\n          - east.example.com",
			"east2/install/istio.yaml: mesh config caCertificates: no entry with peer west's trust anchor for trust domain west.example.com"},
		{"helm: istiod chart without multi-root", federationHelm, "cluster1/helm/istiod.values.yaml",
			"  ISTIO_MULTIROOT_MESH: \"true\"", "  ISTIO_MULTIROOT_MESH: \"false\"",
			`cluster1/helm/istiod.values.yaml: istiod env ISTIO_MULTIROOT_MESH: got "false", want "true"`},
		{"helm: peer root trusted for another trust domain", federationHelm, "cluster1/helm/istiod.values.yaml",
			"        trustDomains:\n          - south.example.com", "        trustDomains:\n          - north.example.com",
			"cluster1/helm/istiod.values.yaml: mesh config caCertificates: no entry with peer south's trust anchor for trust domain south.example.com"},
		{"istiod without multi-root", federationWest, "west2/install/istio.yaml",
			"        ISTIO_MULTIROOT_MESH: \"true\"", "        ISTIO_MULTIROOT_MESH: \"false\"",
			`west2/install/istio.yaml: istiod env ISTIO_MULTIROOT_MESH: got "false", want "true"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, dir := renderExample(t, tt.example)
			edit(t, dir, tt.file, tt.old, tt.new)
			err := Verify(m, dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify = %v\nwant a finding containing %q", err, tt.want)
			}
		})
	}
}
