package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/output"
)

// TestHelmSameFactsAsIstioctl compares the two install paths directly,
// without the Mesh in between: for every example that has a helm- twin, and
// for testdata meshes rendered both ways, the objects Istio's installer
// generates from meshc's IstioOperators and the objects Istio's charts
// render from meshc's values carry the same mesh facts, cluster by cluster.
func TestHelmSameFactsAsIstioctl(t *testing.T) {
	examples, _ := filepath.Glob("../examples/helm-*/mesh.yaml")
	extra, _ := filepath.Glob("testdata/*.yaml")
	examples = append(examples, extra...)
	if len(examples) == 0 {
		t.Fatal("no examples")
	}
	for _, p := range examples {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), "\n  installer: helm\n") {
			continue
		}
		t.Run(p, func(t *testing.T) {
			istioctl := strings.Replace(string(data), "\n  installer: helm\n", "\n  installer: istioctl\n", 1)
			helm := collectFacts(t, p, data)
			iop := collectFacts(t, p, []byte(istioctl))
			if diff := cmp.Diff(iop, helm); diff != "" {
				t.Errorf("facts differ (-istioctl +helm):\n%s", diff)
			}
			if len(helm) == 0 {
				t.Error("no facts collected")
			}
		})
	}
}

// collectFacts renders data with meshc, installs each cluster's inputs with
// Istio's code (the installer or the charts) and returns, per cluster, the
// multicluster facts of the generated objects, keyed by a description.
func collectFacts(t *testing.T, name string, data []byte) map[string]string {
	t.Helper()
	m, out, err := compiler.Compile(name, data)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := output.Write(out, filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	facts := map[string]string{}
	for _, c := range m.Spec.Clusters {
		v := &clusterCheck{mesh: m, cluster: c, root: filepath.Join(dir, "out")}
		inDir, controlPlane, eastWest, _, _ := v.installFiles()
		files, err := yamlFiles(filepath.Join(v.root, c.Name, inDir))
		if err != nil {
			t.Fatal(err)
		}
		var all []*unstructured.Unstructured
		for _, f := range files {
			objs, err := v.install(inDir, f)
			if err != nil {
				t.Fatalf("%s/%s: %v", c.Name, f, err)
			}
			all = append(all, objs...)
			switch f {
			case controlPlane:
				controlPlaneFacts(t, c.Name, m.Spec.Istio.Revision, objs, facts)
			case eastWest:
				gatewayFacts(t, c.Name, objs, facts)
			}
		}
		// The objects both paths must create, whatever their other
		// differences (Helm labels, service account names, the charts' HPA
		// defaults). The istioctl path's default profile also installs
		// istio-ingressgateway on a primary; the Helm guides install no
		// ingress gateway, and neither does meshc's Helm path (docs/helm.md).
		for _, o := range all {
			if o.GetName() == "istio-ingressgateway" {
				continue
			}
			switch o.GetKind() {
			case "Deployment", "Service", "EndpointSlice", "MutatingWebhookConfiguration":
				facts[fmt.Sprintf("%s: %s %s/%s", c.Name, o.GetKind(), o.GetNamespace(), o.GetName())] = "exists"
			}
		}
	}
	return facts
}

func controlPlaneFacts(t *testing.T, cluster, rev string, objs []*unstructured.Unstructured, facts map[string]string) {
	var istiod appsv1.Deployment
	if typed(objs, "Deployment", revisioned("istiod", rev), &istiod) == nil {
		env := containerEnv(istiod.Spec.Template.Spec, "discovery")
		for _, k := range []string{"CLUSTER_ID", "EXTERNAL_ISTIOD", "ISTIOD_CUSTOM_HOST"} {
			facts[cluster+": istiod env "+k] = env[k]
		}
		if mc, err := meshConfig(objs, rev); err == nil {
			facts[cluster+": mesh config meshId"] = mc.GetDefaultConfig().GetMeshId()
			facts[cluster+": mesh config trustDomain"] = mc.GetTrustDomain()
			facts[cluster+": mesh config proxyMetadata ISTIO_META_DNS_CAPTURE"] = mc.GetDefaultConfig().GetProxyMetadata()["ISTIO_META_DNS_CAPTURE"]
			for _, ss := range mc.GetServiceSettings() {
				for _, h := range ss.GetHosts() {
					facts[cluster+": mesh config serviceSettings "+h+" clusterLocal"] = fmt.Sprint(ss.GetSettings().GetClusterLocal())
				}
			}
		} else {
			t.Error(err)
		}
		if env, err := sidecarEnv(objs, rev); err == nil {
			for _, k := range []string{"ISTIO_META_MESH_ID", "ISTIO_META_CLUSTER_ID", "ISTIO_META_NETWORK", "TRUST_DOMAIN"} {
				facts[cluster+": sidecar env "+k] = env[k]
			}
		} else {
			t.Error(err)
		}
	}
	for _, o := range objs {
		if o.GetKind() != "MutatingWebhookConfiguration" {
			continue
		}
		var mwc admissionv1.MutatingWebhookConfiguration
		if err := fromUnstructured(o, &mwc); err != nil {
			t.Fatal(err)
		}
		for _, wh := range mwc.Webhooks {
			urls, err := resolveWebhook(wh.ClientConfig, objs)
			if err != nil && istiod.Name == "" {
				t.Errorf("%s: webhook %s: %v", cluster, wh.Name, err)
			}
			slices.Sort(urls)
			facts[cluster+": webhook "+mwc.Name+"/"+wh.Name+" calls"] = strings.Join(urls, " ")
		}
	}
}

func gatewayFacts(t *testing.T, cluster string, objs []*unstructured.Unstructured, facts map[string]string) {
	var svc corev1.Service
	if err := typed(objs, "Service", eastWestGateway, &svc); err != nil {
		t.Fatal(err)
	}
	facts[cluster+": east-west Service type"] = string(svc.Spec.Type)
	facts[cluster+": east-west Service label "+networkLabel] = svc.Labels[networkLabel]
	var ports []string
	for _, p := range svc.Spec.Ports {
		ports = append(ports, fmt.Sprintf("%s %d→%s", p.Name, p.Port, p.TargetPort.String()))
	}
	slices.Sort(ports)
	facts[cluster+": east-west Service ports"] = strings.Join(ports, ", ")
	var dep appsv1.Deployment
	if err := typed(objs, "Deployment", eastWestGateway, &dep); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"app", "istio", networkLabel} {
		facts[cluster+": east-west pod label "+k] = dep.Spec.Template.Labels[k]
	}
	env := containerEnv(dep.Spec.Template.Spec, "istio-proxy")
	facts[cluster+": east-west env ISTIO_META_REQUESTED_NETWORK_VIEW"] = env["ISTIO_META_REQUESTED_NETWORK_VIEW"]
}
