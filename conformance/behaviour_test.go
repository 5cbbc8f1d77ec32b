package conformance

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	istiolog "istio.io/istio/pkg/log"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/internal/meshgen"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/output"
	"meshc.dev/meshc/rules"
)

// TestMain quiets Istio's logs: its controllers log every step at info
// level, burying the findings.
func TestMain(m *testing.M) {
	for _, s := range istiolog.Scopes() {
		s.SetOutputLevel(istiolog.NoneLevel)
	}
	os.Exit(m.Run())
}

// TestBehaviourMeshes runs every Mesh file of the repository, the examples
// and the suite's testdata, through Istio's discovery code: every proxy must
// be sent what Envoy accepts and the endpoints the Mesh promises.
func TestBehaviourMeshes(t *testing.T) {
	for _, p := range meshFiles(t) {
		t.Run(meshName(p), func(t *testing.T) {
			m, dir := renderExample(t, p)
			if err := VerifyBehaviour(m, dir); err != nil {
				t.Errorf("the mesh of %s does not work:\n%v", p, err)
			}
		})
	}
}

// TestBehaviourPeers runs every two Mesh files of the repository that are
// each other's peers together: each names the other's mesh ID, and meshc
// vets the two as a pair (mesh IDs are not unique across unrelated files:
// testdata's north names a south that is not the example's). The
// federation examples must be among the pairs.
func TestBehaviourPeers(t *testing.T) {
	type rendered struct {
		path string
		m    *mesh.Mesh
		dir  string
	}
	var federated []rendered
	for _, p := range meshFiles(t) {
		m, dir := renderExample(t, p)
		if m.Federated() {
			federated = append(federated, rendered{p, m, dir})
		}
	}
	var pairs []string
	for i, a := range federated {
		for _, b := range federated[i+1:] {
			if peerOf(a.m, b.m) == nil || peerOf(b.m, a.m) == nil {
				continue
			}
			if ps := rules.VetPeers([]*mesh.Mesh{a.m, b.m}); len(ps) > 0 {
				t.Logf("%s and %s name each other but are not peers (%d problems, first: %v)", a.path, b.path, len(ps), ps[0])
				continue
			}
			name := meshName(a.path) + "+" + meshName(b.path)
			pairs = append(pairs, name)
			t.Run(name, func(t *testing.T) {
				if err := VerifyPeers(a.m, a.dir, b.m, b.dir); err != nil {
					t.Errorf("%s and %s do not work together:\n%v", a.path, b.path, err)
				}
			})
		}
	}
	for _, want := range []string{"federation-east+federation-west", "federation-north+federation-south"} {
		if !slices.Contains(pairs, want) {
			t.Errorf("pairs found: %v, want %s among them", pairs, want)
		}
	}
}

// meshFiles lists every Mesh file of the repository: the examples, and each
// YAML file of testdata (at any depth) whose kind is Mesh.
func meshFiles(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob("../examples/*/mesh.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no examples found (%v)", err)
	}
	err = filepath.WalkDir("testdata", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".yaml" {
			return err
		}
		data, err := os.ReadFile(p)
		if err == nil && regexp.MustCompile(`(?m)^kind: Mesh$`).Match(data) {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

// meshName names a Mesh file in test names: the example's directory, or
// the testdata file's name.
func meshName(p string) string {
	if filepath.Base(p) == "mesh.yaml" {
		return filepath.Base(filepath.Dir(p))
	}
	return strings.TrimSuffix(filepath.Base(p), ".yaml")
}

// TestBehaviourGenerated runs generated meshes of 3 and 30 clusters of both
// topologies. At 3, one network (primary-remote) or one per cluster
// (multi-primary); at 30, three primaries each serving nine remotes on its
// network, or 30 primaries on 10 networks of three clusters, so a sidecar
// reaches some other clusters' pods directly and the rest through 27
// gateways, and every primary reads 29 clusters.
// Shapes in between (N=10) add no layout these do not have.
func TestBehaviourGenerated(t *testing.T) {
	for _, topo := range meshgen.Topologies {
		for _, n := range []int{3, 30} {
			shape := meshgen.Shape{Topology: topo, Clusters: n}
			t.Run(shape.String(), func(t *testing.T) {
				m, dir := renderMesh(t, shape.String()+".yaml", meshgen.Generate(shape))
				if err := VerifyBehaviour(m, dir); err != nil {
					t.Errorf("the generated %s mesh does not work:\n%v", shape, err)
				}
			})
		}
	}
}

// TestBehaviourVMs runs a VM with a known address on a network other
// clusters reach only through its gateway: sidecars on that network reach
// the VM directly, the others through the remote's east-west gateway, which
// sends what comes in to the VM.
func TestBehaviourVMs(t *testing.T) {
	m, dir := renderExample(t, vmBehindGateway)
	if err := VerifyBehaviour(m, dir); err != nil {
		t.Errorf("the mesh of %s does not work:\n%v", vmBehindGateway, err)
	}
}

// A VM on a remote's network, registered with the primary on another.
const vmBehindGateway = "testdata/vm-behind-gateway.yaml"

// The example with shared services: one across clusters, one in a single
// cluster, one cluster-local.
const sharedExample = "../examples/shared-services/mesh.yaml"

// TestBehaviourFindings breaks one fact of the rendered output at a time
// and requires the behavioural check to fail, naming the file at fault.
func TestBehaviourFindings(t *testing.T) {
	tests := []struct {
		name      string
		example   string
		file      string // the file edited
		old, new  string
		remove    string // a file to delete instead
		wantFile  string // the file the finding must name; file or remove if empty
		wantError string
	}{{
		// blame.go knows no VM facts yet: the finding names the istiod, not
		// workload-groups.yaml.
		name: "VM's WorkloadEntry on the wrong network", example: vmBehindGateway,
		file: "cluster1/manifests/workload-groups.yaml", old: "  address: \"10.200.0.5\"\n  serviceAccount: inventory\n  network: network2", new: "  address: \"10.200.0.5\"\n  serviceAccount: inventory\n  network: network1",
		wantFile:  "cluster1",
		wantError: "istiod of cluster1: no single file explains the difference: the sidecar in cluster1 gets [10.200.0.5:8080(cluster1)×1] for outbound|8080||inventory.shop.svc.cluster.local, want [203.0.113.2:15443(cluster2)×1]",
	}, {
		name: "network label dropped from a primary's istio-system", example: secretsExample,
		file: "cluster2/manifests/namespace.yaml", old: "    topology.istio.io/network: network2\n", new: "",
		wantError: `istiod of cluster1 puts the workloads of cluster2 on network "", want "network2"`,
	}, {
		name: "east-west gateway on another network", example: secretsExample,
		file: "cluster2/install/eastwest-gateway.yaml", old: "topology.istio.io/network: network2", new: "topology.istio.io/network: network1",
		wantError: `istiod of cluster1 finds 203.0.113.2:15443 on network "network1" as the east-west gateway of cluster2, want 203.0.113.2:15443 on network "network2"`,
	}, {
		name: "declarative remote secret left out", example: secretsExample,
		remove:    "cluster1/remote-secrets/istio-remote-secret-cluster2.yaml",
		wantFile:  "cluster1/remote-secrets",
		wantError: "istiod of cluster1 has no remote secret for cluster2, so it does not read that cluster",
	}, {
		name: "declarative remote secret under another cluster's name", example: secretsExample,
		file: "cluster1/remote-secrets/istio-remote-secret-cluster2.yaml", old: "\n  cluster2: |\n", new: "\n  cluster9: |\n",
		wantError: `istiod of cluster1 reads the API server of cluster2 as cluster "cluster9", want "cluster2"`,
	}, {
		name: "plan creates no remote secret for a cluster", example: fullExample,
		file: "plan.sh", old: "istioctl create-remote-secret --context=cluster2 --name=cluster2 | kubectl label --local -f - -o yaml app.kubernetes.io/managed-by=meshc | kubectl apply -f - --context=cluster1\n", new: "",
		wantError: "istiod of cluster1 has no remote secret for cluster2, so it does not read that cluster",
	}, {
		name: "plan names a remote secret after another cluster", example: fullExample,
		file: "plan.sh", old: "--context=cluster2 --name=cluster2 ", new: "--context=cluster2 --name=cluster9 ",
		wantError: `istiod of cluster1 reads the API server of cluster2 as cluster "cluster9", want "cluster2"`,
	}, {
		name: "primary calls its own cluster by another name", example: fullExample,
		file: "cluster1/install/istio.yaml", old: "clusterName: cluster1", new: "clusterName: cluster9",
		wantError: `sidecars in cluster1 start with ISTIO_META_CLUSTER_ID "cluster9", want "cluster1"`,
	}, {
		name: "remote's pods injected for the wrong network", example: fullExample,
		file: "cluster2/install/istio.yaml", old: "/net/network2", new: "/net/network1",
		wantError: `sidecars in cluster2 start with ISTIO_META_NETWORK "network1", want "network2"`,
	}, {
		name: "primary's gateway on an undeclared network", example: fullExample,
		file: "cluster1/install/eastwest-gateway.yaml", old: "topology.istio.io/network: network1", new: "topology.istio.io/network: network9",
		wantError: `istiod of cluster1 finds 192.0.2.10:15443 on network "network9" as the east-west gateway of cluster1, want 192.0.2.10:15443 on network "network1"`,
	}, {
		name: "cross-network Gateway not in AUTO_PASSTHROUGH mode", example: secretsExample,
		file: "cluster1/manifests/cross-network-gateway.yaml", old: "mode: AUTO_PASSTHROUGH", new: "mode: PASSTHROUGH",
		wantError: "istiod of cluster1: istiod sends the east-west gateway in cluster1 no cluster outbound_.8080_._.sample.meshc-sample.svc.cluster.local",
	}, {
		name: "east-west gateway asking for another network's view", example: secretsExample,
		file: "cluster2/install/eastwest-gateway.yaml", old: "value: network2", new: "value: network1",
		wantError: `east-west gateways in cluster2 start with ISTIO_META_REQUESTED_NETWORK_VIEW "network1", want "network2"`,
	}, {
		name: "cluster-local service not cluster-local", example: sharedExample,
		file: "cluster1/install/istio.yaml", old: "          clusterLocal: true\n", new: "          clusterLocal: false\n",
		wantError: "istiod of cluster1 sends the sidecar in cluster1 endpoints of cluster2: its mesh config does not keep the service in the proxy's cluster",
	}, {
		name: "Helm path: network label dropped from a primary's istio-system", example: helmExample,
		file: "cluster1/manifests/namespace.yaml", old: "    topology.istio.io/network: network1\n", new: "",
		wantError: `istiod of cluster1 puts the workloads of cluster1 on network "", want "network1"`,
	}, {
		name: "Helm path: remote's pods injected for the wrong network", example: helmExample,
		file: "cluster2/helm/istiod.values.yaml", old: "/net/network2", new: "/net/network1",
		wantError: `sidecars in cluster2 start with ISTIO_META_NETWORK "network1", want "network2"`,
	}}
	clean := map[string]string{}
	meshes := map[string]*mesh.Mesh{}
	for _, ex := range []string{fullExample, secretsExample, sharedExample, helmExample, vmBehindGateway} {
		meshes[ex], clean[ex] = renderExample(t, ex)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := meshes[tt.example]
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(clean[tt.example])); err != nil {
				t.Fatal(err)
			}
			wantFile := tt.wantFile
			if tt.remove != "" {
				if err := os.Remove(filepath.Join(dir, filepath.FromSlash(tt.remove))); err != nil {
					t.Fatal(err)
				}
			} else {
				edit(t, dir, tt.file, tt.old, tt.new)
				if wantFile == "" {
					wantFile = tt.file
				}
			}
			err := VerifyBehaviour(m, dir)
			if err == nil {
				t.Fatalf("VerifyBehaviour accepted the broken output")
			}
			t.Logf("findings:\n%v", err)
			if want := wantFile + ": " + tt.wantError; !strings.Contains(err.Error(), want) {
				t.Errorf("error does not contain %q:\n%v", want, err)
			}
		})
	}
}

// renderMesh compiles a Mesh document with meshc's library and writes its
// output into a temporary directory.
func renderMesh(t *testing.T, name string, data []byte) (*mesh.Mesh, string) {
	t.Helper()
	m, out, err := compiler.Compile(name, data)
	if err != nil {
		t.Fatalf("meshc rejects %s: %v", name, err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	if err := output.Write(out, dir); err != nil {
		t.Fatal(err)
	}
	return m, dir
}

// TestScenarioUnreadCluster shows the harness one level down, where new
// features add cases: a Scenario built from the rendered output, with one
// more cluster added by hand. A cluster that runs the sample service but
// that no primary reads must contribute nothing; once an istiod is given a
// remote secret for it, its pods reach sidecars, and the check names the
// secret.
func TestScenarioUnreadCluster(t *testing.T) {
	m, dir := renderExample(t, secretsExample)
	s, err := installedWorld(m, dir)
	if err != nil {
		t.Fatal(err)
	}
	s.expect(m)
	s.Clusters = append(s.Clusters, &ClusterState{Name: "outsider", Objects: sampleService(7, nil)})
	if err := s.Check(); err != nil {
		t.Fatalf("a cluster no primary reads changes what sidecars get:\n%v", err)
	}

	c1 := s.cluster("cluster1")
	c1.Istiod.Reads = append(c1.Istiod.Reads, RemoteRead{ClusterID: "outsider", Source: "outsider", File: "cluster1/remote-secrets/outsider.yaml"})
	err = s.Check()
	want := "cluster1/remote-secrets/outsider.yaml: istiod of cluster1 reads the API server of outsider, which is not a cluster of the mesh"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Check = %v, want a finding containing %q", err, want)
	}
}
