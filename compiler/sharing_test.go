package compiler_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/rules"
)

// randomSharing is a small mesh whose shared services overlap in every way
// the rules meet: entries of one service with and without clusters and
// consumers, namespaces in all or some clusters or not shared, repeated and
// unknown cluster names, cluster-local entries.
func randomSharing(r *rand.Rand) []byte {
	var b strings.Builder
	b.WriteString("apiVersion: meshc.dev/v1alpha1\nkind: Mesh\nmetadata:\n  name: t\nspec:\n  meshID: mesh1\n  topology: multi-primary\n  istio:\n    version: \"1.28.0\"\n  networks:\n    - name: n1\n  clusters:\n")
	for c := range 5 {
		fmt.Fprintf(&b, "    - {name: c%d, network: n1, role: primary}\n", c)
	}
	// A list of clusters: one of c0..c5 (c5 unknown) r times, repeats allowed.
	list := func(unique bool) string {
		var names []string
		for range r.IntN(5) {
			n := fmt.Sprintf("c%d", r.IntN(6))
			if unique && slices.Contains(names, n) {
				continue
			}
			names = append(names, n)
		}
		return "[" + strings.Join(names, ", ") + "]"
	}
	b.WriteString("  namespaces:\n    - name: a\n")
	fmt.Fprintf(&b, "    - {name: b, clusters: %s}\n", list(true))
	b.WriteString("  services:\n")
	for range 2 + r.IntN(6) {
		fmt.Fprintf(&b, "    - name: %s\n      namespace: %s\n      ports: [{name: http, port: 80}]\n", []string{"x", "y"}[r.IntN(2)], []string{"a", "b", "c"}[r.IntN(3)])
		if r.IntN(2) == 0 {
			fmt.Fprintf(&b, "      clusters: %s\n", list(false))
		}
		if r.IntN(2) == 0 {
			fmt.Fprintf(&b, "      consumers: %s\n", list(false))
		}
		if r.IntN(4) == 0 {
			b.WriteString("      clusterLocal: true\n")
		}
	}
	return []byte(b.String())
}

// TestServiceClaimsRandom compares MC026's report of a cluster declared in
// two entries of one service with the rule as its message words it, worked
// out cluster by cluster: the first cluster of an entry's own that an
// earlier entry (or an earlier place in its own list) already declares,
// with the earliest entry declaring it.
func TestServiceClaimsRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := range 400 {
		data := randomSharing(r)
		m, err := mesh.Load("mesh.yaml", data)
		if err != nil {
			t.Fatalf("case %d: %v\n%s", n, err, data)
		}
		var got []string
		for _, p := range rules.Validate(m) {
			if strings.Contains(p.Message, "is already declared for cluster") {
				got = append(got, p.Path+": "+p.Message)
			}
		}
		var want []string
		svcs := m.Spec.Services
		for i := range svcs {
			s := &svcs[i]
			key := s.Namespace + "/" + s.Name
			clusters := m.ServiceClusters(s)
			for k, c := range clusters {
				j := -1
				for e := range i {
					if o := &svcs[e]; o.Namespace == s.Namespace && o.Name == s.Name && slices.Contains(m.ServiceClusters(o), c) {
						j = e
						break
					}
				}
				if j < 0 && s.Clusters != nil && slices.Contains(clusters[:k], c) {
					j = i
				}
				if j >= 0 {
					want = append(want, fmt.Sprintf("spec.services[%d]: service %s is already declared for cluster %q in spec.services[%d]; list each cluster in one entry", i, key, c, j))
					break
				}
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("case %d (-want +got):\n%s\n%s", n, d, data)
		}
	}
}

// TestServiceStubsRandom compares each cluster's stubs with their meaning
// worked out service by service: a cluster gets one stub of a service that
// one of its entries has it consume and none has it run (cluster-local
// entries aside), in the order the services first appear.
func TestServiceStubsRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for n := range 400 {
		data := randomSharing(r)
		m, err := mesh.Load("mesh.yaml", data)
		if err != nil {
			t.Fatalf("case %d: %v\n%s", n, err, data)
		}
		ns := func(s *mesh.SharedService) []string {
			if n := m.SharedNamespace(s.Namespace); n != nil {
				return m.NamespaceClusters(n)
			}
			return nil
		}
		for ci := range m.Spec.Clusters {
			c := &m.Spec.Clusters[ci]
			var want []string
			done := map[string]bool{}
			for i := range m.Spec.Services {
				s := &m.Spec.Services[i]
				key := s.Namespace + "/" + s.Name
				if s.ClusterLocal || done[key] {
					continue
				}
				done[key] = true
				consumed, runs := false, false
				for k := range m.Spec.Services {
					e := &m.Spec.Services[k]
					if e.ClusterLocal || e.Namespace != s.Namespace || e.Name != s.Name {
						continue
					}
					consumers := e.Consumers
					if consumers == nil {
						consumers = ns(e)
					}
					consumed = consumed || slices.Contains(consumers, c.Name)
					runs = runs || slices.Contains(m.ServiceClusters(e), c.Name)
				}
				if consumed && !runs {
					want = append(want, key)
				}
			}
			var got []string
			for _, s := range m.Place(c).ServiceStubs() {
				got = append(got, s.Namespace+"/"+s.Name)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("case %d, cluster %s (-want +got):\n%s\n%s", n, c.Name, d, data)
			}
		}
	}
}
