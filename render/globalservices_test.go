package render

import (
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The global-services phase labels, where each service runs, what Istio
// reads: istio.io/global on a global (not cluster-local) service, and
// istio.io/use-waypoint on every service that names a waypoint, a
// cluster-local one too (the waypoint meshc renders would otherwise carry
// none of its traffic). Expected labels come from the Mesh below.
func TestGlobalServicesPhaseLabels(t *testing.T) {
	m := mustVet(t, []byte(`
apiVersion: meshc.dev/v1alpha1
kind: Mesh
metadata: {name: ambient}
spec:
  meshID: mesh1
  topology: multi-primary
  dataPlane: ambient
  istio: {version: "1.29.0"}
  networks: [{name: n1}, {name: n2}]
  clusters:
    - {name: c1, network: n1, role: primary, eastWestGateway: {}}
    - {name: c2, network: n2, role: primary, eastWestGateway: {}}
  namespaces: [{name: shop}]
  services:
    - {name: front, namespace: shop, waypoint: wp, ports: [{name: http, port: 80}]}
    - {name: cache, namespace: shop, clusterLocal: true, waypoint: cache-wp, ports: [{name: tcp, port: 6379}]}
    - {name: db, namespace: shop, clusterLocal: true, clusters: [c2], ports: [{name: tcp, port: 5432}]}
    - {name: api, namespace: shop, clusters: [c1], ports: [{name: http, port: 8080}]}
`))
	var ph *Phase
	p := BuildPlan(m)
	for i := range p.Phases {
		if p.Phases[i].ID == PhaseGlobalServices {
			ph = &p.Phases[i]
		}
	}
	if ph == nil {
		t.Fatalf("no %s phase", PhaseGlobalServices)
	}
	step := regexp.MustCompile(`^if svc=\$\(kubectl --context=(\S+) -n (\S+) get service (\S+) .*?; then kubectl --context=\S+ -n \S+ label --overwrite service \S+ ([^;]+); else`)
	got := map[string]string{}
	for _, s := range ph.Steps {
		g := step.FindStringSubmatch(s.Command)
		if g == nil {
			t.Fatalf("step does not label a service: %s", s.Command)
		}
		got[g[1]+" "+g[2]+"/"+g[3]] = g[4]
	}
	want := map[string]string{
		"c1 shop/front": "istio.io/global=true istio.io/use-waypoint=wp",
		"c2 shop/front": "istio.io/global=true istio.io/use-waypoint=wp",
		"c1 shop/cache": "istio.io/use-waypoint=cache-wp",
		"c2 shop/cache": "istio.io/use-waypoint=cache-wp",
		"c1 shop/api":   "istio.io/global=true",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("labels by cluster and service (-want +got):\n%s", diff)
	}
}
