package e2e

import (
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"meshc.dev/meshc/mesh"
)

func loadExample(t *testing.T, name string) *mesh.Mesh {
	t.Helper()
	m, err := mesh.LoadFile(filepath.Join("..", "examples", name, "mesh.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The expected endpoints follow the Mesh: the proxy's own network gets pod
// addresses, another network its gateway's address on 15443 (the Mesh's
// address where it gives one, the stand-in load balancer's otherwise).
func TestExpectedEndpointsPerNetwork(t *testing.T) {
	e := Expect(loadExample(t, "primary-remote-multi-network"), func(c string) int { return map[string]int{"cluster1": 0, "cluster2": 1}[c] })
	pods := func(c string) []string {
		return map[string][]string{"cluster1": {"10.100.0.5"}, "cluster2": {"10.101.0.7"}}[c]
	}
	s := e.Services[0]
	for from, want := range map[string][]string{
		"cluster1": {"10.100.0.5:80", "198.51.101.10:15443"},
		"cluster2": {"10.101.0.7:80", "192.0.2.10:15443"},
	} {
		if got := e.Endpoints(from, s, pods); !reflect.DeepEqual(got, want) {
			t.Errorf("from %s: %v, want %v", from, got, want)
		}
	}
	if got, want := e.Primary, map[string]string{"cluster1": "cluster1", "cluster2": "cluster1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("primaries %v, want %v", got, want)
	}
	if got, want := e.Synced("cluster1"), []string{"cluster1", "cluster2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("synced %v, want %v", got, want)
	}
}

// Shared services: a service in one cluster reaches the other's callers
// through its network's gateway; a cluster-local one only its own cluster's.
func TestExpectedEndpointsSharedServices(t *testing.T) {
	e := Expect(loadExample(t, "shared-services"), func(c string) int { return map[string]int{"cluster1": 0, "cluster2": 1}[c] })
	pods := func(c string) []string {
		return map[string][]string{"cluster1": {"10.100.0.5"}, "cluster2": {"10.101.0.7"}}[c]
	}
	got := map[string][]string{}
	for _, s := range e.Services {
		for _, from := range s.Consumers {
			got[s.Name+" from "+from] = e.Endpoints(from, s, pods)
		}
	}
	want := map[string][]string{
		"helloworld from cluster1":    {"10.100.0.5:5000", "198.51.101.10:15443"},
		"helloworld from cluster2":    {"10.101.0.7:5000", "198.51.100.10:15443"},
		"curl from cluster1":          {"10.100.0.5:80", "198.51.101.10:15443"},
		"curl from cluster2":          {"10.101.0.7:80", "198.51.100.10:15443"},
		"reviews from cluster1":       {"198.51.101.10:15443"},
		"reviews from cluster2":       {"10.101.0.7:9080"},
		"ratings-cache from cluster1": {"10.100.0.5:6379"},
		"ratings-cache from cluster2": {"10.101.0.7:6379"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("endpoints:\n%v\nwant:\n%v", got, want)
	}
}

// A revisioned mesh's samples run in the namespaces that select a tag, each
// injected by the revision its tag points at.
func TestExpectedSamplesFollowTags(t *testing.T) {
	m := loadExample(t, "revisions")
	m.Spec.Istio.Tags[1].Revision = "1-31" // canary moved ahead of prod
	e := Expect(m, func(string) int { return 0 })
	var got []string
	for _, s := range e.Services {
		got = append(got, s.Namespace+"/"+s.Name+" by "+s.Revision)
	}
	if want := []string{"shop/sample by 1-30", "checkout/sample by 1-31"}; !reflect.DeepEqual(got, want) {
		t.Errorf("samples %v, want %v", got, want)
	}
	if got := IstiodService(e.Revision()); got != "istiod-1-30" {
		t.Errorf("istiod Service %s, want istiod-1-30", got)
	}
	if got := IstiodService(Expect(loadExample(t, "primary-remote-multi-network"), func(string) int { return 0 }).Revision()); got != "istiod" {
		t.Errorf("unrevisioned istiod Service %s, want istiod", got)
	}
}

// An ambient mesh's ztunnels: their own cluster's pods directly; a global
// service's pods on another network as one workload behind that network's
// east-west gateway on 15008, counting its pods; a cluster-local service
// only here. No pod is injected, and only global services are global.
func TestExpectedZtunnels(t *testing.T) {
	e := Expect(loadExample(t, "ambient-multi-network"), func(c string) int { return map[string]int{"cluster1": 0, "cluster2": 1}[c] })
	pods := func(c string) []string {
		return map[string][]string{"cluster1": {"10.100.0.5"}, "cluster2": {"10.101.0.7", "10.101.0.8"}}[c]
	}
	got := map[string][]string{}
	for _, s := range e.Services {
		if !s.Ambient || s.Revision != "" {
			t.Errorf("%s: ambient %v, injected by %q; want ambient, injected by none", s.Key(), s.Ambient, s.Revision)
		}
		for _, from := range e.Clusters() {
			got[s.Name+" from "+from] = e.Ztunnel(from, s, pods)
		}
		got[s.Name+" is global"] = []string{fmt.Sprint(s.Global), s.Waypoint}
	}
	want := map[string][]string{
		"helloworld from cluster1":    {"direct 10.100.0.5", "via 198.51.101.10:15008 on network network2 for 2 pods"},
		"helloworld from cluster2":    {"direct 10.101.0.7", "direct 10.101.0.8", "via 198.51.100.10:15008 on network network1 for 1 pods"},
		"helloworld is global":        {"true", ""},
		"reviews from cluster1":       {"via 198.51.101.10:15008 on network network2 for 2 pods", "waypoint sample/waypoint.sample.svc.cluster.local:15008"},
		"reviews from cluster2":       {"direct 10.101.0.7", "direct 10.101.0.8", "waypoint sample/waypoint.sample.svc.cluster.local:15008"},
		"reviews is global":           {"true", "waypoint"},
		"ratings-cache from cluster1": {"direct 10.100.0.5"},
		"ratings-cache from cluster2": {"direct 10.101.0.7", "direct 10.101.0.8"},
		"ratings-cache is global":     {"false", ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ztunnels:\n%v\nwant:\n%v", got, want)
	}
}
