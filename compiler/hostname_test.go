package compiler_test

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"meshc.dev/meshc/compiler"
)

// TestIstiodByHostname: when remotes reach their primary's istiod by DNS
// name, Istio's remote profile makes istiod an ExternalName Service and the
// injection webhook would call port 443 of that name, which the east-west
// gateway does not serve. The remote must call 15017 by URL instead, and the
// primary must sign its serving certificate for the name. By IP, neither.
func TestIstiodByHostname(t *testing.T) {
	for _, tc := range []struct {
		name, primary   string
		wantURL, wantCH string
	}{
		{"gateway hostname", "      eastWestGateway:\n        address: eastwest.cluster1.example.com\n",
			"https://eastwest.cluster1.example.com:15017/inject/cluster/cluster2/net/network2", "eastwest.cluster1.example.com"},
		{"istiod hostname", "      istiod:\n        address: istiod.cluster1.example.com\n",
			"https://istiod.cluster1.example.com:15017/inject/cluster/cluster2/net/network2", "istiod.cluster1.example.com"},
		{"ipv6", "      eastWestGateway:\n        address: 2001:db8::10\n", "", ""},
		{"ipv4", "      eastWestGateway:\n        address: 192.0.2.10\n", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mesh := `apiVersion: meshc.dev/v1alpha1
kind: Mesh
metadata:
  name: t
spec:
  meshID: mesh1
  topology: primary-remote
  istio:
    # 1.30 or later: an IPv6 istiod address is an error before (MC014).
    version: "1.31.0"
  networks:
    - name: network1
    - name: network2
  clusters:
    - name: cluster1
      network: network1
      role: primary
` + tc.primary + `    - name: cluster2
      network: network2
      role: remote
      controlPlane: cluster1
      eastWestGateway: {}
`
			if !strings.Contains(tc.primary, "eastWestGateway") {
				mesh = strings.Replace(mesh, "      role: primary\n", "      role: primary\n      eastWestGateway: {}\n", 1)
			}
			_, out, err := compiler.Compile("mesh.yaml", []byte(mesh))
			if err != nil {
				t.Fatal(err)
			}
			var remote struct {
				Spec struct {
					Values struct {
						IstiodRemote map[string]string `yaml:"istiodRemote"`
					}
				}
			}
			var primary struct {
				Spec struct {
					Values struct {
						Pilot struct{ Env map[string]string }
					}
				}
			}
			if err := yaml.Unmarshal(out.Lookup("cluster2/install/istio.yaml").Data, &remote); err != nil {
				t.Fatal(err)
			}
			if err := yaml.Unmarshal(out.Lookup("cluster1/install/istio.yaml").Data, &primary); err != nil {
				t.Fatal(err)
			}
			ir := remote.Spec.Values.IstiodRemote
			if ir["injectionURL"] != tc.wantURL {
				t.Errorf("remote injectionURL = %q, want %q", ir["injectionURL"], tc.wantURL)
			}
			if wantPath := "/inject/cluster/cluster2/net/network2"; tc.wantURL == "" && ir["injectionPath"] != wantPath {
				t.Errorf("remote injectionPath = %q, want %q", ir["injectionPath"], wantPath)
			}
			if tc.wantURL != "" && ir["injectionPath"] != "" {
				t.Errorf("remote sets both injectionURL and injectionPath %q", ir["injectionPath"])
			}
			if got := primary.Spec.Values.Pilot.Env["ISTIOD_CUSTOM_HOST"]; got != tc.wantCH {
				t.Errorf("primary ISTIOD_CUSTOM_HOST = %q, want %q", got, tc.wantCH)
			}
		})
	}
}
