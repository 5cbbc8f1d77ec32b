package compiler_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/internal/cuebaseline"
	"meshc.dev/meshc/internal/meshgen"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/render"
)

// benchSizes are the cluster counts every benchmark runs at.
var benchSizes = []int{3, 30, 100, 300, 1000}

// cueBaselineLimit is the largest mesh the CUE baseline is benchmarked on per
// topology. Its big sizes take seconds each, so they run only when
// MESHC_BENCH_LARGE is set (make bench sets it); a multi-primary mesh of 1000
// clusters (999,000 remote secrets) is beyond what it finishes in reasonable
// time and memory.
func cueBaselineLimit(t meshgen.Topology) int {
	if os.Getenv("MESHC_BENCH_LARGE") == "" {
		return 100
	}
	if t == meshgen.MultiPrimary {
		return 300
	}
	return 1000
}

// eachShape runs f as a sub-benchmark per topology and size, named
// "<topology>/N=<clusters>", with the generated mesh's bytes.
func eachShape(b *testing.B, limit func(meshgen.Topology) int, f func(b *testing.B, data []byte)) {
	for _, topo := range meshgen.Topologies {
		for _, n := range benchSizes {
			s := meshgen.Shape{Topology: topo, Clusters: n}
			if limit != nil && n > limit(topo) || s.RemoteSecrets() > mesh.MaxRemoteSecrets {
				continue // a 1000-primary mesh is refused (MaxRemoteSecrets)
			}
			data := meshgen.Generate(s)
			b.Run(s.String(), func(b *testing.B) {
				b.ReportAllocs()
				f(b, data)
			})
		}
	}
}

// BenchmarkCheck is `meshc vet`: Load (YAML, schema, defaults) and Validate.
func BenchmarkCheck(b *testing.B) {
	eachShape(b, nil, func(b *testing.B, data []byte) {
		for b.Loop() {
			if _, err := compiler.Vet("mesh.yaml", data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRender renders an already checked mesh: every cluster's files
// and the plan, in memory.
func BenchmarkRender(b *testing.B) {
	eachShape(b, nil, func(b *testing.B, data []byte) {
		m, err := compiler.Vet("mesh.yaml", data)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := render.Render(m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCompile is the whole in-memory job from bytes (Check, then
// Render): the counterpart of BenchmarkCUEBaseline.
func BenchmarkCompile(b *testing.B) {
	eachShape(b, nil, func(b *testing.B, data []byte) {
		for b.Loop() {
			if _, _, err := compiler.Compile("mesh.yaml", data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCUEBaseline does a subset of the same job the naive way, with CUE
// comprehensions over the whole mesh (see internal/cuebaseline), from the same
// bytes. Each iteration also runs meshc's Compile on the input, outside the
// timer, and the benchmark reports the two side by side: measured moments
// apart, the ratio holds up on a machine busy with other work, where two
// separate benchmarks run a minute apart see different loads.
func BenchmarkCUEBaseline(b *testing.B) {
	eachShape(b, cueBaselineLimit, func(b *testing.B, data []byte) {
		var meshc time.Duration
		for range b.N {
			if _, err := cuebaseline.Export("mesh.yaml", data); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			start := time.Now()
			if _, _, err := compiler.Compile("mesh.yaml", data); err != nil {
				b.Fatal(err)
			}
			meshc += time.Since(start)
			b.StartTimer()
		}
		b.ReportMetric(float64(meshc.Nanoseconds())/float64(b.N), "compile-ns/op")
		b.ReportMetric(float64(b.Elapsed())/float64(meshc), "CUE/compile")
	})
}

// BenchmarkCompileServices is Load, Validate and Render of a mesh that
// shares services: 300 clusters × 200 services, the size the shared-services
// target names, in both topologies.
func BenchmarkCompileServices(b *testing.B) {
	for _, topo := range meshgen.Topologies {
		s := meshgen.Shape{Topology: topo, Clusters: 300, Services: 200}
		data := meshgen.Generate(s)
		b.Run(s.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := compiler.Compile("mesh.yaml", data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCompileVMs is Load, Validate and Render of a mesh with virtual
// machines: 300 clusters, 200 shared services and 500 workload groups (half
// auto-registering on a network of VMs only, half with three static
// instances each), in both topologies.
func BenchmarkCompileVMs(b *testing.B) {
	for _, topo := range meshgen.Topologies {
		s := meshgen.Shape{Topology: topo, Clusters: 300, Services: 200, VMGroups: 500}
		data := meshgen.Generate(s)
		b.Run(s.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := compiler.Compile("mesh.yaml", data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVetDimensions is Load and Validate of each input dimension of
// meshgen.Dimensions at each of its sizes, the rest of the mesh fixed, with
// the input's size as the metric B/input: `make bench` checks that the time
// grows no faster than the input (a rule comparing every service with
// every cluster would grow with their product).
func BenchmarkVetDimensions(b *testing.B) {
	for _, d := range meshgen.Dimensions {
		for _, n := range d.Sizes {
			data := d.Generate(n)
			b.Run(fmt.Sprintf("%s/n=%d", d.Name, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := compiler.Vet("mesh.yaml", data); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(data)), "B/input")
			})
		}
	}
}
