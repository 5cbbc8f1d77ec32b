package meshgen_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/internal/meshgen"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/rules"
)

// TestGenerateIsValid checks that every benchmarked shape is a mesh meshc
// accepts, with the layout the benchmarks' reports claim for it.
func TestGenerateIsValid(t *testing.T) {
	for _, topo := range meshgen.Topologies {
		for _, n := range []int{1, 3, 30, 100, 1000} {
			s := meshgen.Shape{Topology: topo, Clusters: n}
			t.Run(s.String(), func(t *testing.T) {
				data := meshgen.Generate(s)
				if !bytes.Equal(data, meshgen.Generate(s)) {
					t.Fatal("two calls returned different bytes")
				}
				m, err := compiler.Vet("mesh.yaml", data)
				if s.RemoteSecrets() > mesh.MaxRemoteSecrets {
					if err == nil || !strings.Contains(err.Error(), "MaxRemoteSecrets") {
						t.Fatalf("a mesh needing %d remote secrets: err = %v, want one naming MaxRemoteSecrets", s.RemoteSecrets(), err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if got := len(m.Spec.Clusters); got != n {
					t.Errorf("clusters: got %d, want %d", got, n)
				}
				if got := len(m.Spec.Networks); got != s.Networks() {
					t.Errorf("networks: got %d, want %d", got, s.Networks())
				}
				primaries := 0
				for _, c := range m.Spec.Clusters {
					if c.IsPrimary() {
						primaries++
					}
				}
				if primaries != s.Primaries() {
					t.Errorf("primaries: got %d, want %d", primaries, s.Primaries())
				}
				if got := len(mesh.RemoteSecrets(m)); got != s.RemoteSecrets() {
					t.Errorf("remote secrets: got %d, want %d", got, s.RemoteSecrets())
				}
				// Remotes are spread evenly over the primaries.
				lo, hi := n, 0
				for _, c := range m.Spec.Clusters {
					if rs := m.Remotes(c.Name); c.IsPrimary() {
						lo, hi = min(lo, len(rs)), max(hi, len(rs))
					}
				}
				if topo == meshgen.PrimaryRemote && n > s.Primaries() && hi-lo > 1 {
					t.Errorf("remotes per primary range from %d to %d", lo, hi)
				}
			})
		}
	}
}

// TestGenerateSizes pins the two shapes the performance targets name.
func TestGenerateSizes(t *testing.T) {
	pr := meshgen.Shape{Topology: meshgen.PrimaryRemote, Clusters: 1000}
	if pr.Primaries() != 10 || pr.Networks() != 10 {
		t.Errorf("%v: %d primaries on %d networks, want 10 on 10", pr, pr.Primaries(), pr.Networks())
	}
	mp := meshgen.Shape{Topology: meshgen.MultiPrimary, Clusters: 300}
	if mp.RemoteSecrets() != 89700 {
		t.Errorf("%v: %d remote secrets, want 89700", mp, mp.RemoteSecrets())
	}
}

// TestDimensionsAreValid: every dimension's smallest size is a mesh meshc
// accepts (BenchmarkVetDimensions fails on any size that is not), every
// size gives the same bytes on every call, and the largest is four times
// the smallest.
func TestDimensionsAreValid(t *testing.T) {
	for _, d := range meshgen.Dimensions {
		if len(d.Sizes) < 2 || d.Sizes[len(d.Sizes)-1] != 4*d.Sizes[0] {
			t.Errorf("%s: sizes %v, want the largest four times the smallest", d.Name, d.Sizes)
		}
		for i, n := range d.Sizes {
			data := d.Generate(n)
			if !bytes.Equal(data, d.Generate(n)) {
				t.Errorf("%s/n=%d: two calls returned different bytes", d.Name, n)
			}
			if i > 0 {
				continue
			}
			if _, err := compiler.Vet("mesh.yaml", data); err != nil {
				t.Errorf("%s/n=%d: %v", d.Name, n, err)
			}
		}
	}
}

// TestPeersAreValid checks that generated pairs are meshes meshc accepts,
// each on its own and together (VetPeers), the same for the same seed, and
// that the seeds tried cover what the generator promises: both
// topologies, VMs of both kinds, services missing from some network.
func TestPeersAreValid(t *testing.T) {
	seen := map[string]bool{}
	for seed := range uint64(64) {
		a, b := meshgen.Peers(seed)
		if a2, b2 := meshgen.Peers(seed); !bytes.Equal(a, a2) || !bytes.Equal(b, b2) {
			t.Fatalf("seed %d: two calls returned different bytes", seed)
		}
		ma, err := compiler.Vet("a.yaml", a)
		if err != nil {
			t.Fatalf("seed %d: side a:\n%s\n%v", seed, a, err)
		}
		mb, err := compiler.Vet("b.yaml", b)
		if err != nil {
			t.Fatalf("seed %d: side b:\n%s\n%v", seed, b, err)
		}
		if ps := rules.VetPeers([]*mesh.Mesh{ma, mb}); len(ps) > 0 {
			t.Fatalf("seed %d: the pair:\n%v", seed, ps)
		}
		for _, m := range []*mesh.Mesh{ma, mb} {
			seen[string(m.Spec.Topology)] = true
			if len(m.Spec.Networks) < 2 || len(m.Spec.Peers) != 1 {
				t.Errorf("seed %d: %s has %d networks and %d peers, want 2 or more and 1", seed, m.Metadata.Name, len(m.Spec.Networks), len(m.Spec.Peers))
			}
			for _, g := range m.Spec.WorkloadGroups {
				seen[fmt.Sprintf("VMs registering themselves: %v", g.AutoRegister())] = true
			}
			for _, s := range m.Spec.Services {
				nets := map[string]bool{}
				for _, c := range s.Clusters {
					nets[m.Cluster(c).Network] = true
				}
				seen[fmt.Sprintf("service on every network: %v", len(nets) == countNetworks(m))] = true
			}
		}
	}
	for _, want := range []string{"multi-primary", "primary-remote", "VMs registering themselves: true", "VMs registering themselves: false",
		"service on every network: true", "service on every network: false"} {
		if !seen[want] {
			t.Errorf("no seed of 64 gives %s", want)
		}
	}
}

// countNetworks counts the networks of m's clusters.
func countNetworks(m *mesh.Mesh) int {
	nets := map[string]bool{}
	for _, c := range m.Spec.Clusters {
		nets[c.Network] = true
	}
	return len(nets)
}
