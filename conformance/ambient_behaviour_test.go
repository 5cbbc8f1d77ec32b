package conformance

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestZtunnelWants pins what the Mesh promises the ztunnels of the ambient
// example, independently of the code that compares it: cluster1 reaches
// helloworld's cluster2 pods and reviews only through network2's east-west
// gateway, HBONE on 15008, and sees nothing of the others' local services.
func TestZtunnelWants(t *testing.T) {
	m, _ := renderExample(t, ambientExample)
	got := wantZtunnel(m, "cluster1")
	want := map[string][]string{
		"meshc-sample/sample.meshc-sample.svc.cluster.local": {"direct 10.1.0.10"},
		"sample/helloworld.sample.svc.cluster.local":         {"direct 10.1.0.30", "via 203.0.113.2:15008 on network network2 for 2 pods"},
		"sample/reviews.sample.svc.cluster.local":            {"via 203.0.113.2:15008 on network network2 for 2 pods"},
		"sample/ratings-cache.sample.svc.cluster.local":      {"direct 10.1.0.70"},
	}
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			t.Errorf("%s: got %v, want %v", k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got services %v, want %d", sortedKeysOf(got), len(want))
	}
}

// TestBehaviourAmbientFindings breaks one fact of the rendered ambient
// output at a time and requires the ztunnel check to fail, naming the file
// at fault.
func TestBehaviourAmbientFindings(t *testing.T) {
	tests := []struct {
		name      string
		example   string
		file      string // the file edited
		old, new  string
		wantFile  string // the file the finding must name; file if empty
		wantError string
	}{{
		name: "east-west gateway labelled with the other network", example: ambientExample,
		file: "cluster2/manifests/eastwest-gateway.yaml", old: "topology.istio.io/network: network2", new: "topology.istio.io/network: network1",
		wantError: "istiod of cluster1 sends its ztunnels [direct 10.1.0.30] for sample/helloworld.sample.svc.cluster.local, want [direct 10.1.0.30, via 203.0.113.2:15008 on network network2 for 2 pods]",
	}, {
		name: "east-west gateway of another class", example: helmAmbientExample,
		file: "cluster1/manifests/eastwest-gateway.yaml", old: "gatewayClassName: istio-east-west", new: "gatewayClassName: istio",
		wantError: "istiod of cluster2 sends its ztunnels [direct 10.1.16.30, direct 10.1.16.31] for sample/helloworld.sample.svc.cluster.local, want [direct 10.1.16.30, direct 10.1.16.31, via 203.0.113.1:15008 on network network1 for 1 pods]",
	}, {
		name: "istiod without the multi-network flag", example: ambientExample,
		file: "cluster1/install/istio.yaml", old: "AMBIENT_ENABLE_MULTI_NETWORK: \"true\"", new: "AMBIENT_ENABLE_MULTI_NETWORK: \"false\"",
		wantError: "istiod of cluster1 sends its ztunnels [direct 10.1.0.30] for sample/helloworld.sample.svc.cluster.local, want [direct 10.1.0.30, via 203.0.113.2:15008 on network network2 for 2 pods]",
	}, {
		name: "Helm istiod without the ambient profile", example: helmAmbientExample,
		file: "cluster1/helm/istiod.values.yaml", old: "\nprofile: ambient\n", new: "\n",
		wantError: `istiod of cluster1 does not run ambient (PILOT_ENABLE_AMBIENT is "")`,
	}, {
		name: "plan labels a cluster-local service global", example: ambientExample,
		file: "plan.sh", old: "echo '==> 7. Label the shared services where they run: global, and their waypoint (ambient)'\n",
		new:       "echo '==> 7. Label the shared services where they run: global, and their waypoint (ambient)'\nkubectl --context=cluster1 -n sample label --overwrite service ratings-cache istio.io/global=true;\nkubectl --context=cluster2 -n sample label --overwrite service ratings-cache istio.io/global=true;\n",
		wantFile:  "plan.sh",
		wantError: "istiod of cluster1 sends its ztunnels [direct 10.1.0.70, via 203.0.113.2:15008 on network network2 for 2 pods] for sample/ratings-cache.sample.svc.cluster.local, want [direct 10.1.0.70]",
	}, {
		name: "plan does not label a service global", example: ambientExample,
		file: "plan.sh", old: "label --overwrite service reviews istio.io/global=true", new: "label --overwrite service reviews",
		wantFile:  "plan.sh",
		wantError: "istiod of cluster1 sends its ztunnels no workloads for sample/reviews.sample.svc.cluster.local, want [via 203.0.113.2:15008 on network network2 for 2 pods]",
	}}
	clean := map[string]string{}
	for _, ex := range []string{ambientExample, helmAmbientExample} {
		_, clean[ex] = renderExample(t, ex)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := renderExample(t, tt.example)
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(clean[tt.example])); err != nil {
				t.Fatal(err)
			}
			edit(t, dir, tt.file, tt.old, tt.new)
			err := VerifyBehaviour(m, dir)
			if err == nil {
				t.Fatalf("VerifyBehaviour accepted the broken output")
			}
			t.Logf("findings:\n%v", err)
			wantFile := tt.wantFile
			if wantFile == "" {
				wantFile = tt.file
			}
			if want := wantFile + ": " + tt.wantError; !strings.Contains(err.Error(), want) {
				t.Errorf("error does not contain %q:\n%v", want, err)
			}
		})
	}
}
