package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"text/tabwriter"
)

// Growth targets: from each dimension's smallest size to its largest (four
// times as many services, peers, ...), meshc vet's allocations and time may
// grow at most this much faster than the input's bytes. Linear is 1; a
// loop over clusters inside a loop over services makes it about 4.
// Allocations are counted exactly; time is noisier on a shared machine.
const (
	growthAllocsTarget = 1.5
	growthTimeTarget   = 2.0
)

var (
	growthBench = "^BenchmarkVetDimensions$"
	growthLine  = regexp.MustCompile(`^BenchmarkVetDimensions/([A-Za-z]+)/n=(\d+)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op\s+([\d.]+) B/input\s+(\d+) B/op\s+(\d+) allocs/op`)
)

// growthRow is one size of one dimension: medians over repetitions.
type growthRow struct {
	dimension         string
	n                 int
	input             float64
	ns, bytes, allocs []float64
}

// growthBenchmarks runs BenchmarkVetDimensions in the compiler's test
// binary, one iteration a repetition: its large sizes take a second.
func growthBenchmarks(testBin, dir string, o options) ([]*growthRow, error) {
	outp, err := testBenchmarks(testBin, dir, growthBench, o.count, "1x")
	if err != nil {
		return nil, fmt.Errorf("growth benchmarks: %w", err)
	}
	rows := parseGrowth(outp)
	if len(rows) == 0 {
		return nil, fmt.Errorf("growth benchmarks printed no results:\n%s", outp)
	}
	return rows, nil
}

// parseGrowth reads the benchmark's lines, keeping their order.
func parseGrowth(outp []byte) []*growthRow {
	var rows []*growthRow
	byKey := map[string]*growthRow{}
	sc := bufio.NewScanner(bytes.NewReader(outp))
	for sc.Scan() {
		m := growthLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		r := byKey[m[1]+"/"+m[2]]
		if r == nil {
			n, _ := strconv.Atoi(m[2])
			in, _ := strconv.ParseFloat(m[4], 64)
			r = &growthRow{dimension: m[1], n: n, input: in}
			byKey[m[1]+"/"+m[2]] = r
			rows = append(rows, r)
		}
		ns, _ := strconv.ParseFloat(m[3], 64)
		b, _ := strconv.ParseFloat(m[5], 64)
		a, _ := strconv.ParseFloat(m[6], 64)
		r.ns, r.bytes, r.allocs = append(r.ns, ns), append(r.bytes, b), append(r.allocs, a)
	}
	return rows
}

// printGrowth writes each dimension's smallest and largest size and how
// much faster than the input meshc vet's cost grew between them, checks
// the growth targets and returns the misses.
func printGrowth(w io.Writer, rows []*growthRow, reps int) (missed int) {
	fmt.Fprintf(w, "\nGrowth in each input dimension (go test -bench BenchmarkVetDimensions, meshc vet in process, medians of %d):\n", reps)
	fmt.Fprintln(w, "growth = (cost at the largest size / cost at the smallest) / (input bytes at the largest / at the smallest); linear is 1.")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "dimension\tsizes\tinput\tvet\tallocs\ttime growth\talloc growth\t")
	type pair struct{ small, large *growthRow }
	var dims []string
	pairs := map[string]*pair{}
	for _, r := range rows {
		p := pairs[r.dimension]
		if p == nil {
			p = &pair{small: r, large: r}
			pairs[r.dimension] = p
			dims = append(dims, r.dimension)
		}
		if r.n < p.small.n {
			p.small = r
		}
		if r.n > p.large.n {
			p.large = r
		}
	}
	growth := func(p *pair, f func(*growthRow) float64) float64 {
		return (f(p.large) / f(p.small)) / (p.large.input / p.small.input)
	}
	nsOf := func(r *growthRow) float64 { return median(r.ns) }
	allocsOf := func(r *growthRow) float64 { return median(r.allocs) }
	for _, d := range dims {
		p := pairs[d]
		fmt.Fprintf(tw, "%s\t%d → %d\t%s → %s\t%s → %s\t%s → %s\t%.2f\t%.2f\t\n", d, p.small.n, p.large.n,
			mb(p.small.input), mb(p.large.input), dur(nsOf(p.small)), dur(nsOf(p.large)),
			count(allocsOf(p.small)), count(allocsOf(p.large)), growth(p, nsOf), growth(p, allocsOf))
	}
	tw.Flush()
	fmt.Fprintln(w, "\nGrowth targets:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, d := range dims {
		p := pairs[d]
		for _, c := range []struct {
			what   string
			got    float64
			target float64
		}{{"alloc growth", growth(p, allocsOf), growthAllocsTarget}, {"time growth", growth(p, nsOf), growthTimeTarget}} {
			verdict := "ok  "
			if c.got > c.target {
				verdict = "MISS"
				missed++
			}
			fmt.Fprintf(tw, "  %s\t%s %d → %d: meshc vet %s\t%.2f\t≤ %.1f\t\n", verdict, d, p.small.n, p.large.n, c.what, c.got, c.target)
		}
	}
	tw.Flush()
	return missed
}
