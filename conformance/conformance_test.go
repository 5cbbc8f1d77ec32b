package conformance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/output"
)

// TestExamples is the conformance suite: every example's rendered output
// must be accepted by Istio's installer and validation and have the topology
// its Mesh describes.
func TestExamples(t *testing.T) {
	paths, err := filepath.Glob("../examples/*/mesh.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no examples found (%v)", err)
	}
	// Meshes that cover what the guides' examples do not (testdata/*.yaml).
	extra, _ := filepath.Glob("testdata/*.yaml")
	paths = append(paths, extra...)
	for _, p := range paths {
		name := filepath.Base(filepath.Dir(p))
		if filepath.Base(p) != "mesh.yaml" {
			name = strings.TrimSuffix(filepath.Base(p), ".yaml")
		}
		t.Run(name, func(t *testing.T) {
			m, dir := renderExample(t, p)
			if err := Verify(m, dir); err != nil {
				t.Errorf("Istio does not accept the output of %s:\n%v", p, err)
			}
		})
	}
}

// The example whose output has every kind of file meshc writes: primary and
// remote control planes, east-west gateways, cross-network and istiod
// Gateways, a VirtualService and namespaces with topology metadata.
const fullExample = "../examples/primary-remote-multi-network/mesh.yaml"

// The example with declarative remote secrets and reader access.
const secretsExample = "../examples/multi-primary-multi-network/mesh.yaml"

// fullExample on the Helm path: values for every chart meshc installs.
const helmExample = "../examples/helm-primary-remote-multi-network/mesh.yaml"

// The example with virtual machines: an auto-registering group on a network
// of its own, and a group with a static instance on the cluster's network.
const vmExample = "../examples/vm/mesh.yaml"

// vmExample on the Helm path: the generator reads the istiod chart's mesh
// config.
const helmVMExample = "testdata/helm-vm.yaml"

// The ambient examples: two primaries on two networks, istioctl and Helm.
const (
	ambientExample     = "../examples/ambient-multi-network/mesh.yaml"
	helmAmbientExample = "../examples/helm-ambient-multi-network/mesh.yaml"
)

// TestVerifyRejectsBrokenIstioOperator shows the suite can fail: a
// misspelled IstioOperator field, which istioctl would refuse to install, is
// a finding that names the file.
func TestVerifyRejectsBrokenIstioOperator(t *testing.T) {
	m, dir := renderExample(t, fullExample)
	edit(t, dir, "cluster1/install/istio.yaml", "\n  values:\n", "\n  valuez:\n")
	err := Verify(m, dir)
	if err == nil {
		t.Fatal("Verify accepted an IstioOperator with spec.valuez")
	}
	for _, want := range []string{"cluster1/install/istio.yaml: istioctl manifest generate:", `unknown field "valuez"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%v", want, err)
		}
	}
}

// TestVerifyFindings breaks the rendered output of an example in one place at
// a time, the way a meshc bug could, and requires Verify to report
// exactly that, against the right file.
func TestVerifyFindings(t *testing.T) {
	tests := []struct {
		name      string
		example   string // fullExample if empty
		file      string
		old, new  string
		wantError string
	}{{
		name: "misspelled values field", file: "cluster1/install/istio.yaml",
		old: "meshID: mesh1", new: "meshId: mesh1",
		wantError: `unknown field "meshId"`,
	}, {
		name: "misspelled gateway k8s field", file: "cluster1/install/eastwest-gateway.yaml",
		old: "          service:\n", new: "          servce:\n",
		wantError: `unknown field "servce"`,
	}, {
		name: "gateway without 15443", file: "cluster1/install/eastwest-gateway.yaml",
		old: "port: 15443\n                targetPort: 15443", new: "port: 15444\n                targetPort: 15444",
		wantError: "does not expose port 15443",
	}, {
		name: "gateway on the wrong network", file: "cluster2/install/eastwest-gateway.yaml",
		old: "topology.istio.io/network: network2", new: "topology.istio.io/network: network1",
		wantError: `label topology.istio.io/network: got "network1", want "network2"`,
	}, {
		name: "mesh ID lost", file: "cluster1/install/istio.yaml",
		old: "      meshID: mesh1\n", new: "",
		wantError: `injected sidecar env ISTIO_META_MESH_ID: got "cluster.local", want "mesh1"`,
	}, {
		name: "wrong cluster name", file: "cluster1/install/istio.yaml",
		old: "clusterName: cluster1", new: "clusterName: cluster9",
		wantError: `istiod env CLUSTER_ID: got "cluster9", want "cluster1"`,
	}, {
		name: "primary not serving its remote", file: "cluster1/install/istio.yaml",
		old: "      externalIstiod: true\n", new: "",
		wantError: "istiod env EXTERNAL_ISTIOD",
	}, {
		name: "remote pointing at the wrong primary address", file: "cluster2/install/istio.yaml",
		old: `remotePilotAddress: "192.0.2.10"`, new: `remotePilotAddress: "192.0.2.99"`,
		wantError: `resolve to "https://192.0.2.99:15017/inject/cluster/cluster2/net/network2", want "https://192.0.2.10:15017/inject/cluster/cluster2/net/network2"`,
	}, {
		name: "remote injecting for the wrong network", file: "cluster2/install/istio.yaml",
		old: "/net/network2", new: "/net/network1",
		wantError: `resolve to "https://192.0.2.10:15017/inject/cluster/cluster2/net/network1"`,
	}, {
		name: "remote with its own istiod", file: "cluster2/install/istio.yaml",
		old: "  profile: remote\n", new: "",
		wantError: "remote runs its own control plane: Deployment istiod",
	}, {
		name: "invalid Gateway TLS mode", file: "cluster1/manifests/cross-network-gateway.yaml",
		old: "mode: AUTO_PASSTHROUGH", new: "mode: AUTO_PASSTHRU",
		wantError: "istioctl validate:",
	}, {
		name: "unknown Gateway field", file: "cluster1/manifests/cross-network-gateway.yaml",
		old: "  selector:\n", new: "  selectr:\n",
		wantError: `unknown field "selectr"`,
	}, {
		name: "Gateway selecting no gateway", file: "cluster1/manifests/cross-network-gateway.yaml",
		old: "istio: eastwestgateway", new: "istio: eastwest",
		wantError: "selects no gateway installed in cluster1",
	}, {
		name: "VirtualService to a missing port", file: "cluster1/manifests/expose-istiod.yaml",
		old: "number: 443", new: "number: 444",
		wantError: "port 444: Service istiod has no such port",
	}, {
		name: "unknown Namespace field", file: "cluster2/manifests/namespace.yaml",
		old: "  annotations:\n", new: "  annotatons:\n",
		wantError: `unknown field "metadata.annotatons"`,
	}, {
		name: "namespace on the wrong network", file: "cluster2/manifests/namespace.yaml",
		old: "topology.istio.io/network: network2", new: "topology.istio.io/network: network1",
		wantError: `Namespace istio-system label topology.istio.io/network: got "network1", want "network2"`,
	}, {
		name: "remote secret istiod ignores", example: secretsExample, file: "cluster1/remote-secrets/istio-remote-secret-cluster2.yaml",
		old: `istio/multiCluster: "true"`, new: `istio/multiCluster: "false"`,
		wantError: `Secret istio-remote-secret-cluster2: label istio/multiCluster: got "false", want "true"`,
	}, {
		name: "remote secret for a cluster not in the mesh", example: secretsExample, file: "cluster1/remote-secrets/istio-remote-secret-cluster2.yaml",
		old: "\n  cluster2: |\n", new: "\n  cluster9: |\n",
		wantError: `key "cluster9" is not another cluster of the mesh`,
	}, {
		name: "remote secret kubeconfig istiod rejects", example: secretsExample, file: "cluster1/remote-secrets/istio-remote-secret-cluster2.yaml",
		old: "current-context: cluster2", new: "current-context: cluster3",
		wantError: "istiod would reject the kubeconfig for cluster2",
	}, {
		name: "reader role narrower than Istio's", example: secretsExample, file: "cluster2/remote-access/istio-reader.yaml",
		old: `resources: ["endpointslices"]`, new: `resources: ["endpoints"]`,
		wantError: "ClusterRole meshc-istio-reader does not grant get, list, watch on discovery.k8s.io/endpointslices",
	}, {
		// The Helm path: the same facts, checked on the objects Istio's
		// charts render from meshc's values.
		name: "helm: misspelled istiod value", example: helmExample, file: "cluster1/helm/istiod.values.yaml",
		old: "meshID: mesh1", new: "meshId: mesh1",
		wantError: `unknown value "global.meshId": the chart's values.yaml does not define it`,
	}, {
		name: "helm: value the base chart does not read", example: helmExample, file: "cluster1/helm/base.values.yaml",
		old: "{}", new: "global:\n  externalIstiod: true",
		wantError: `unknown value "global.externalIstiod"`,
	}, {
		name: "helm: legacy pilot prefix", example: helmExample, file: "cluster1/helm/istiod.values.yaml",
		old: "meshConfig:\n", new: "pilot:\n  env:\n    EXTERNAL_ISTIOD: true\nmeshConfig:\n",
		wantError: `unknown value "pilot"`,
	}, {
		name: "helm: misspelled meshConfig field", example: helmExample, file: "cluster1/helm/istiod.values.yaml",
		old: "trustDomain: cluster.local", new: "trustDomian: cluster.local",
		wantError: `value "meshConfig": not an Istio MeshConfig`,
	}, {
		name: "helm: misspelled gateway value", example: helmExample, file: "cluster1/helm/eastwest-gateway.values.yaml",
		old: "networkGateway: network1", new: "networkGatway: network1",
		wantError: `unknown value "networkGatway"`,
	}, {
		name: "helm: gateway on the wrong network", example: helmExample, file: "cluster2/helm/eastwest-gateway.values.yaml",
		old: "networkGateway: network2", new: "networkGateway: network1",
		wantError: `label topology.istio.io/network: got "network1", want "network2"`,
	}, {
		name: "helm: wrong cluster name", example: helmExample, file: "cluster1/helm/istiod.values.yaml",
		old: "clusterName: cluster1", new: "clusterName: cluster9",
		wantError: `istiod env CLUSTER_ID: got "cluster9", want "cluster1"`,
	}, {
		name: "helm: primary not serving its remote", example: helmExample, file: "cluster1/helm/istiod.values.yaml",
		old: "  externalIstiod: true\n", new: "",
		wantError: "istiod env EXTERNAL_ISTIOD",
	}, {
		name: "helm: remote pointing at the wrong primary address", example: helmExample, file: "cluster2/helm/istiod.values.yaml",
		old: `remotePilotAddress: "192.0.2.10"`, new: `remotePilotAddress: "192.0.2.99"`,
		wantError: `resolve to "https://192.0.2.99:15017/inject/cluster/cluster2/net/network2", want "https://192.0.2.10:15017/inject/cluster/cluster2/net/network2"`,
	}, {
		name: "helm: remote injecting for the wrong network", example: helmExample, file: "cluster2/helm/istiod.values.yaml",
		old: "/net/network2", new: "/net/network1",
		wantError: `resolve to "https://192.0.2.10:15017/inject/cluster/cluster2/net/network1"`,
	}, {
		name: "helm: remote with its own istiod", example: helmExample, file: "cluster2/helm/istiod.values.yaml",
		old: "profile: remote\n", new: "",
		wantError: "remote runs its own control plane: Deployment istiod",
	}, {
		name: "VM hosts pointing elsewhere", example: vmExample, file: "cluster1/vm/vm-apps/cloud-vm/hosts",
		old: "192.0.2.10", new: "192.0.2.99",
		wantError: `differs from Istio's generator: got "192.0.2.99 istiod.istio-system.svc\n", want "192.0.2.10 istiod.istio-system.svc\n"`,
	}, {
		name: "VM on the wrong network", example: vmExample, file: "cluster1/vm/vm-apps/cloud-vm/cluster.env",
		old: "ISTIO_META_NETWORK='vm-network'", new: "ISTIO_META_NETWORK='network1'",
		wantError: "differs from Istio's generator: ISTIO_META_NETWORK: got 'network1', want 'vm-network'",
	}, {
		name: "VM inbound ports lost", example: vmExample, file: "cluster1/vm/vm-apps/database/cluster.env",
		old: "ISTIO_INBOUND_PORTS='3306'", new: "ISTIO_INBOUND_PORTS='*'",
		wantError: "ISTIO_INBOUND_PORTS: got *, want 3306",
	}, {
		name: "VM not auto-registering", example: vmExample, file: "cluster1/vm/vm-apps/cloud-vm/mesh.yaml",
		old: "    ISTIO_META_AUTO_REGISTER_GROUP: \"cloud-vm\"\n", new: "",
		wantError: "differs from Istio's generator",
	}, {
		name: "VM probe lost in the sidecar config", example: vmExample, file: "cluster1/vm/vm-apps/cloud-vm/mesh.yaml",
		old: "      path: \"/ready\"\n", new: "      path: \"/\"\n",
		wantError: "differs from Istio's generator",
	}, {
		name: "WorkloadGroup on the wrong network", example: vmExample, file: "cluster1/manifests/workload-groups.yaml",
		old: "    network: vm-network", new: "    network: network1",
		wantError: `WorkloadGroup cloud-vm network: got "network1", want "vm-network"`,
	}, {
		name: "WorkloadEntry at the wrong address", example: vmExample, file: "cluster1/manifests/workload-groups.yaml",
		old: `address: "10.128.0.21"`, new: `address: "10.128.0.22"`,
		wantError: `WorkloadEntry vm-apps/database-1: address "10.128.0.22"`,
	}, {
		name: "WorkloadGroup with a service account that does not exist", example: vmExample, file: "cluster1/manifests/workload-groups.yaml",
		old: "  name: database-vm\n", new: "  name: database\n",
		wantError: "no ServiceAccount vm-apps/database-vm",
	}, {
		name: "istiod not exposed to VMs", example: vmExample, file: "cluster1/manifests/expose-istiod.yaml",
		old: "name: tls-istiod\n        number: 15012", new: "name: tls-istiod\n        number: 15013",
		wantError: "no Gateway exposes istiod's 15012",
	}, {
		name: "helm: VM mesh ID lost", example: helmVMExample, file: "cluster1/vm/vm-apps/cloud-vm/mesh.yaml",
		old: "  meshId: mesh1\n", new: "",
		wantError: "differs from Istio's generator",
	}, {
		name: "VM token for the wrong audience", example: vmExample, file: "plan.sh",
		old: "create token cloud-vm --audience=istio-ca", new: "create token cloud-vm --audience=api",
		wantError: "no step gathers cluster1/vm/vm-apps/cloud-vm's files",
	}, {
		name: "ambient: ztunnel on the wrong network", example: ambientExample, file: "cluster1/install/istio.yaml",
		old: "      network: network1\n", new: "      network: network9\n",
		wantError: `ztunnel env NETWORK: got "network9", want "network1"`,
	}, {
		name: "ambient: istiod without the multi-network flag", example: ambientExample, file: "cluster2/install/istio.yaml",
		old: "AMBIENT_ENABLE_MULTI_NETWORK: \"true\"", new: "AMBIENT_ENABLE_MULTI_NETWORK: \"false\"",
		wantError: `istiod env AMBIENT_ENABLE_MULTI_NETWORK: got "false", want "true"`,
	}, {
		name: "sidecar mesh with the ambient multi-network flag", example: secretsExample, file: "cluster1/install/istio.yaml",
		old: "  values:\n", new: "  values:\n    pilot:\n      env:\n        AMBIENT_ENABLE_MULTI_NETWORK: \"true\"\n",
		wantError: `istiod env AMBIENT_ENABLE_MULTI_NETWORK: got "true", want ""`,
	}, {
		name: "helm ambient: ztunnel with another cluster's name", example: helmAmbientExample, file: "cluster1/helm/ztunnel.values.yaml",
		old: "clusterName: cluster1", new: "clusterName: cluster2",
		wantError: `ztunnel env ISTIO_META_CLUSTER_ID: got "cluster2", want "cluster1"`,
	}, {
		name: "helm ambient: istiod without the ambient profile", example: helmAmbientExample, file: "cluster1/helm/istiod.values.yaml",
		old: "\nprofile: ambient\n", new: "\n",
		wantError: `istiod env PILOT_ENABLE_AMBIENT: got "", want "true"`,
	}, {
		name: "ambient east-west gateway of another class", example: ambientExample, file: "cluster1/manifests/eastwest-gateway.yaml",
		old: "gatewayClassName: istio-east-west", new: "gatewayClassName: istio",
		wantError: `Gateway gatewayClassName: got "istio", want "istio-east-west"`,
	}, {
		name: "ambient east-west gateway on the wrong network", example: helmAmbientExample, file: "cluster2/manifests/eastwest-gateway.yaml",
		old: "topology.istio.io/network: network2", new: "topology.istio.io/network: network1",
		wantError: `Gateway label topology.istio.io/network: got "network1", want "network2"`,
	}, {
		name: "ambient east-west gateway passing TLS through", example: ambientExample, file: "cluster1/manifests/eastwest-gateway.yaml",
		old: "mode: Terminate", new: "mode: Passthrough",
		wantError: `listener tls.mode: got "Passthrough", want "Terminate"`,
	}, {
		name: "ambient east-west gateway on another port", example: ambientExample, file: "cluster2/manifests/eastwest-gateway.yaml",
		old: "port: 15008", new: "port: 15443",
		wantError: `listener: got "mesh 15443 HBONE", want "mesh 15008 HBONE"`,
	}}
	clean := map[string]string{}
	meshes := map[string]*mesh.Mesh{}
	for _, ex := range []string{fullExample, secretsExample, helmExample, vmExample, helmVMExample, ambientExample, helmAmbientExample} {
		meshes[ex], clean[ex] = renderExample(t, ex)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.example == "" {
				tt.example = fullExample
			}
			m := meshes[tt.example]
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(clean[tt.example])); err != nil {
				t.Fatal(err)
			}
			edit(t, dir, tt.file, tt.old, tt.new)
			err := Verify(m, dir)
			if err == nil {
				t.Fatalf("Verify accepted the broken output")
			}
			for _, want := range []string{tt.file + ": ", tt.wantError} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not contain %q:\n%v", want, err)
				}
			}
		})
	}
}

// TestVerifyRequiresInstallFiles checks that a missing IstioOperator is a
// finding, not a silently skipped install.
func TestVerifyRequiresInstallFiles(t *testing.T) {
	for _, tt := range []struct{ example, file, want string }{
		{fullExample, "cluster2/install/istio.yaml", "cluster2/install: no istio.yaml"},
		{fullExample, "cluster1/install/eastwest-gateway.yaml", "cluster1/install: no eastwest-gateway.yaml, but the Mesh declares an east-west gateway in cluster1"},
		{helmExample, "cluster2/helm/istiod.values.yaml", "cluster2/helm: no istiod.values.yaml: every cluster needs a control plane values file (the istiod chart)"},
		{helmExample, "cluster1/helm/base.values.yaml", "cluster1/helm: no base.values.yaml: every cluster needs it"},
		{helmExample, "cluster1/helm/eastwest-gateway.values.yaml", "cluster1/helm: no eastwest-gateway.values.yaml, but the Mesh declares an east-west gateway in cluster1"},
	} {
		file, want := tt.file, tt.want
		t.Run(file, func(t *testing.T) {
			m, dir := renderExample(t, tt.example)
			if err := os.Remove(filepath.Join(dir, filepath.FromSlash(file))); err != nil {
				t.Fatal(err)
			}
			if err := Verify(m, dir); err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("Verify = %v, want a finding containing %q", err, want)
			}
		})
	}
}

// renderExample compiles the Mesh at path with meshc's library and writes its
// output, as `meshc render` does, into a temporary directory.
func renderExample(t *testing.T, path string) (*mesh.Mesh, string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, out, err := compiler.Compile(path, data)
	if err != nil {
		t.Fatalf("meshc rejects %s: %v", path, err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	if err := output.Write(out, dir); err != nil {
		t.Fatal(err)
	}
	return m, dir
}

// edit replaces the one occurrence of old in a rendered file with new.
func edit(t *testing.T, dir, file, old, new string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(file))
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), old); n != 1 {
		t.Fatalf("%s contains %q %d times, want once", file, old, n)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}
