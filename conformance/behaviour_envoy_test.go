package conformance

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	networking "istio.io/api/networking/v1alpha3"
	"istio.io/istio/pilot/pkg/config/kube/crd"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/schema/gvk"
	"sigs.k8s.io/yaml"
)

// TestBehaviourEnvoyFindings adds to the gateway that exports a second
// AUTO_PASSTHROUGH server on 15443, passing *.local: what every
// multi-network mesh that exported rendered before issue 23 (the
// cross-network server next to the federation server). Every exported SNI
// then gets two filter chains with one match, and Envoy refuses the
// listener; the finding must name both Gateway files and the SNI.
func TestBehaviourEnvoyFindings(t *testing.T) {
	m, dir := renderExample(t, "../examples/federation-east/mesh.yaml")
	const added = "east1/manifests/overlapping-gateway.yaml"
	content, exporting := passthroughGateway(t, dir, "east1/manifests", "overlapping", "*.local")
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(added)), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	files := []string{added, exporting}
	slices.Sort(files)
	err := VerifyBehaviour(m, dir)
	for _, w := range []string{
		files[0] + ": istiod of east1 sends the east-west gateway in east1 a listener Envoy refuses (made by " + files[0] + " and " + files[1] + " together)",
		"listener 0.0.0.0_15443: filter chains ",
		" have the same match (SNI outbound_.9080_._.ratings.bookinfo.svc.cluster.local)",
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("no finding contains %q:\n%v", w, err)
		}
	}
}

// TestScenarioEnvoyRefuses hands istiod Istio config that Istio's own
// validation would refuse (so no rendered file can hold it: the harness
// reads manifests with Istio's parser, which validates) and whose routes
// Envoy refuses: a header value with a newline, checked by the route's own
// rules, and a fault's HTTP status out of range, inside a typed config,
// which protoc-gen-validate's Validate does not enter and Envoy does. The
// finding names the file the config is said to come from.
func TestScenarioEnvoyRefuses(t *testing.T) {
	m, dir := renderExample(t, fullExample)
	for _, tt := range []struct {
		name string
		http *networking.HTTPRoute
		want string
	}{
		{"header value with a newline", &networking.HTTPRoute{Headers: &networking.Headers{Request: &networking.Headers_HeaderOperations{Set: map[string]string{"x-meshc": "a\nb"}}}},
			"route configuration 8080: route configuration 8080 is invalid: invalid RouteConfiguration.VirtualHosts["},
		{"fault status out of range", &networking.HTTPRoute{Fault: &networking.HTTPFaultInjection{Abort: &networking.HTTPFaultInjection_Abort{
			ErrorType: &networking.HTTPFaultInjection_Abort_HttpStatus{HttpStatus: 700}, Percentage: &networking.Percent{Value: 50}}}},
			"typed config type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault is invalid: invalid HTTPFault.Abort: embedded message failed validation | caused by: invalid FaultAbort.HttpStatus: value must be inside range [200, 600)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := installedWorld(m, dir)
			if err != nil {
				t.Fatal(err)
			}
			s.expect(m)
			tt.http.Route = []*networking.HTTPRouteDestination{{Destination: &networking.Destination{Host: sampleHost}}}
			c1 := s.cluster("cluster1")
			c1.Objects = append(c1.Objects, Object{File: "cluster1/manifests/broken-route.yaml", Config: &config.Config{
				Meta: config.Meta{GroupVersionKind: gvk.VirtualService, Name: "broken", Namespace: sampleNamespace, Domain: "cluster.local"},
				Spec: &networking.VirtualService{Hosts: []string{sampleHost}, Http: []*networking.HTTPRoute{tt.http}},
			}})
			err = s.Check()
			for _, w := range []string{"cluster1/manifests/broken-route.yaml: istiod of cluster1 sends the sidecar in cluster1 a route configuration Envoy refuses", tt.want} {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("no finding contains %q:\n%v", w, err)
				}
			}
		})
	}
}

// passthroughGateway returns a Gateway named name that selects the gateway
// the rendered AUTO_PASSTHROUGH Gateway in manifests selects, with an
// AUTO_PASSTHROUGH server on 15443 passing hosts, and the file of that
// rendered Gateway.
func passthroughGateway(t *testing.T, dir, manifests, name string, hosts ...string) (content, file string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, filepath.FromSlash(manifests), "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		configs, _, _ := crd.ParseInputs(string(data))
		for _, c := range configs {
			gw, ok := c.Spec.(*networking.Gateway)
			if !ok || len(gw.GetServers()) == 0 || gw.GetServers()[0].GetTls().GetMode() != networking.ServerTLSSettings_AUTO_PASSTHROUGH {
				continue
			}
			out, err := yaml.Marshal(map[string]any{
				"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
				"metadata": map[string]any{"name": name, "namespace": c.Namespace},
				"spec": map[string]any{
					"selector": gw.GetSelector(),
					"servers": []any{map[string]any{
						"port":  map[string]any{"number": 15443, "name": "tls-" + name, "protocol": "TLS"},
						"tls":   map[string]any{"mode": "AUTO_PASSTHROUGH"},
						"hosts": hosts,
					}},
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			return string(out), manifests + "/" + filepath.Base(f)
		}
	}
	t.Fatalf("no AUTO_PASSTHROUGH Gateway in %s", manifests)
	return "", ""
}

// sampleRoute is a VirtualService for the sample service whose one HTTP
// route has the given fields (YAML, indented for the route) besides its
// destination.
func sampleRoute(fields string) string {
	return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: broken
  namespace: ` + sampleNamespace + `
spec:
  hosts:
    - ` + sampleHost + `
  http:
    - route:
        - destination:
            host: ` + sampleHost + `
      ` + fields + "\n"
}
