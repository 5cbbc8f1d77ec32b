package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"
)

// dimensionTarget is the in-process compile time (Load, Validate, Render)
// every input dimension's largest size must stay under.
const dimensionTarget = time.Second

// The input dimensions besides clusters each have a benchmark named
// BenchmarkCompile<Dimension> (CompileServices, CompilePeers, ...), whose
// sub-benchmarks are its sizes.
var (
	dimensionBench = "^BenchmarkCompile[A-Z]"
	dimensionLine  = regexp.MustCompile(`^BenchmarkCompile([A-Z]\w*)/(\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op\s+(\d+) B/op\s+(\d+) allocs/op`)
)

// dimensionRow is one size of one dimension: medians over repetitions.
type dimensionRow struct {
	dimension, size   string
	ns, bytes, allocs []float64
}

// dimensionBenchmarks runs every dimension's benchmark in the compiler's
// test binary.
func dimensionBenchmarks(testBin, dir string, o options) ([]*dimensionRow, error) {
	outp, err := testBenchmarks(testBin, dir, dimensionBench, o.count, o.benchtime)
	if err != nil {
		return nil, fmt.Errorf("dimension benchmarks: %w", err)
	}
	rows := parseDimensions(outp)
	if len(rows) == 0 {
		return nil, fmt.Errorf("dimension benchmarks printed no results:\n%s", outp)
	}
	return rows, nil
}

// testBenchmarks runs the benchmarks matching pattern in a compiled test
// binary, with memory statistics, and returns what they print.
func testBenchmarks(testBin, dir, pattern string, count int, benchtime string) ([]byte, error) {
	cmd := exec.Command(testBin, "-test.run", "^$", "-test.bench", pattern,
		"-test.benchmem", "-test.count", strconv.Itoa(count), "-test.benchtime", benchtime)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outp, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%w\n%s%s", err, outp, stderr.Bytes())
	}
	return outp, nil
}

// parseDimensions reads the benchmarks' lines, keeping their order.
func parseDimensions(outp []byte) []*dimensionRow {
	var rows []*dimensionRow
	byKey := map[string]*dimensionRow{}
	sc := bufio.NewScanner(bytes.NewReader(outp))
	for sc.Scan() {
		m := dimensionLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		r := byKey[m[1]+"/"+m[2]]
		if r == nil {
			r = &dimensionRow{dimension: m[1], size: m[2]}
			byKey[m[1]+"/"+m[2]] = r
			rows = append(rows, r)
		}
		ns, _ := strconv.ParseFloat(m[3], 64)
		b, _ := strconv.ParseFloat(m[4], 64)
		a, _ := strconv.ParseFloat(m[5], 64)
		r.ns, r.bytes, r.allocs = append(r.ns, ns), append(r.bytes, b), append(r.allocs, a)
	}
	return rows
}

// printDimensions writes the dimensions' table and checks each dimension's
// largest size (its last) against dimensionTarget; it returns the misses.
func printDimensions(w io.Writer, rows []*dimensionRow, reps int) (missed int) {
	fmt.Fprintf(w, "\nInput dimensions (go test -bench BenchmarkCompile<Dimension>, medians of %d): compile = Load+Validate+Render.\n", reps)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "dimension\tsize\tcompile\tallocs\tbytes\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", r.dimension, r.size, dur(median(r.ns)), count(median(r.allocs)), mb(median(r.bytes)))
	}
	tw.Flush()
	fmt.Fprintln(w, "\nDimension targets:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var dims []string
	last := map[string]*dimensionRow{}
	for _, r := range rows {
		if last[r.dimension] == nil {
			dims = append(dims, r.dimension)
		}
		last[r.dimension] = r
	}
	slices.Sort(dims)
	for _, d := range dims {
		r := last[d]
		t := time.Duration(median(r.ns))
		verdict := "ok  "
		if t >= dimensionTarget {
			verdict = "MISS"
			missed++
		}
		fmt.Fprintf(tw, "  %s\t%s %s: compile in process\t%s\t< %s\n", verdict, d, r.size, t.Round(time.Millisecond), dimensionTarget)
	}
	tw.Flush()
	return missed
}
