package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"meshc.dev/meshc/internal/meshgen"
)

// TestParseBenchmarks reads the lines `go test -bench -benchmem` prints,
// repetitions included, and skips everything else.
func TestParseBenchmarks(t *testing.T) {
	out := []byte(`goos: linux
goarch: amd64
pkg: meshc.dev/meshc/compiler
cpu: Intel(R) Xeon(R) Processor
BenchmarkCheck/primary-remote/N=1000-2         	       3	  70069622 ns/op	36670749 B/op	  498401 allocs/op
BenchmarkCheck/primary-remote/N=1000-2         	       3	  70123092 ns/op	36670962 B/op	  498399 allocs/op
BenchmarkCUEBaseline/multi-primary/N=300          	       1	 984690436 ns/op	         9.651 CUE/compile	  16361788 compile-ns/op	428630704 B/op	 2197227 allocs/op
BenchmarkOther-2   	 100	 12 ns/op
PASS
ok  	meshc.dev/meshc/compiler	12.3s
`)
	got := parseBenchmarks(out)
	want := map[benchKey]*benchStat{
		{"Check", meshgen.Shape{Topology: meshgen.PrimaryRemote, Clusters: 1000}}: {
			ns: []float64{70069622, 70123092}, bytes: []float64{36670749, 36670962}, allocs: []float64{498401, 498399},
		},
		{"CUEBaseline", meshgen.Shape{Topology: meshgen.MultiPrimary, Clusters: 300}}: {
			ns: []float64{984690436}, bytes: []float64{428630704}, allocs: []float64{2197227},
			metrics: map[string][]float64{"CUE/compile": {9.651}, "compile-ns/op": {16361788}},
		},
	}
	if d := cmp.Diff(want, got, cmp.AllowUnexported(benchStat{})); d != "" {
		t.Errorf("parseBenchmarks (-want +got):\n%s", d)
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0}, {[]float64{3}, 3}, {[]float64{9, 1, 5}, 5}, {[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	if got := median([]time.Duration{3, 1, 2}); got != 2 {
		t.Errorf("median of durations = %v, want 2", got)
	}
}

// TestDimensions parses the dimension benchmarks' lines in order, keeps
// repetitions together and checks each dimension's largest size.
func TestDimensions(t *testing.T) {
	out := []byte(`goos: linux
BenchmarkCompileServices/primary-remote/N=300/S=200-2  	       2	 450000000 ns/op	116568307 B/op	 1070392 allocs/op
BenchmarkCompilePeers/multi-primary/N=100/S=200/peers=0-2  	10	  96000000 ns/op	64000000 B/op	  500000 allocs/op
BenchmarkCompilePeers/multi-primary/N=100/S=200/peers=50-2 	 2	1383000000 ns/op	286000000 B/op	 3000000 allocs/op
BenchmarkCompileServices/primary-remote/N=300/S=200-2  	       2	 470000000 ns/op	116568307 B/op	 1070392 allocs/op
BenchmarkCompile/primary-remote/N=3-2  	 1000	   1000000 ns/op	 1000 B/op	 10 allocs/op
`)
	rows := parseDimensions(out)
	if len(rows) != 3 || rows[0].dimension != "Services" || len(rows[0].ns) != 2 || rows[2].size != "multi-primary/N=100/S=200/peers=50" {
		t.Fatalf("parsed %+v", rows)
	}
	var b strings.Builder
	if missed := printDimensions(&b, rows, 2); missed != 1 || !strings.Contains(b.String(), "MISS  Peers multi-primary/N=100/S=200/peers=50") {
		t.Errorf("missed %d:\n%s", missed, b.String())
	}
}

// TestGrowth parses BenchmarkVetDimensions' lines, pairs each dimension's
// smallest and largest sizes and misses a dimension whose cost grows with
// the square of the input.
func TestGrowth(t *testing.T) {
	out := []byte(`goos: linux
BenchmarkVetDimensions/Services/n=1250-2  	       1	1000000000 ns/op	    100000 B/input	80000000 B/op	 1000000 allocs/op
BenchmarkVetDimensions/Services/n=5000-2  	       1	4400000000 ns/op	    400000 B/input	320000000 B/op	 4200000 allocs/op
BenchmarkVetDimensions/Peers/n=250-2      	       1	 100000000 ns/op	    100000 B/input	10000000 B/op	  100000 allocs/op
BenchmarkVetDimensions/Peers/n=1000-2     	       1	1600000000 ns/op	    400000 B/input	160000000 B/op	 1600000 allocs/op
BenchmarkVetDimensions/Services/n=1250-2  	       1	1200000000 ns/op	    100000 B/input	80000000 B/op	 1000000 allocs/op
`)
	rows := parseGrowth(out)
	if len(rows) != 4 || rows[0].dimension != "Services" || len(rows[0].ns) != 2 || rows[3].n != 1000 || rows[1].input != 400000 {
		t.Fatalf("parsed %+v", rows)
	}
	var b strings.Builder
	missed := printGrowth(&b, rows, 2)
	text := strings.Join(strings.Fields(b.String()), " ")
	if missed != 2 || !strings.Contains(text, "MISS Peers 250 → 1000: meshc vet alloc growth 4.00") ||
		!strings.Contains(text, "ok Services 1250 → 5000: meshc vet alloc growth 1.05") {
		t.Errorf("missed %d:\n%s", missed, b.String())
	}
}
