package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"meshc.dev/meshc/internal/cuebaseline"
	"meshc.dev/meshc/internal/meshgen"
	"meshc.dev/meshc/mesh"
)

// sizes are the cluster counts measured, for every topology.
var sizes = []int{3, 30, 100, 300, 1000}

// cueBaselineLimit mirrors compiler/bench_test.go: the CUE baseline is not run on
// a 1000-cluster multi-primary mesh (999,000 remote secrets).
func cueBaselineLimit(t meshgen.Topology) int {
	if t == meshgen.MultiPrimary {
		return 300
	}
	return 1000
}

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, errMissed):
		os.Exit(1)
	case err != nil:
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(2)
	}
}

// errMissed is run's result when -strict is set and a target was missed;
// the report already says which.
var errMissed = errors.New("a target was missed")

type options struct {
	count     int
	runs      int
	benchtime string
	outDir    string
	diskDir   string
	strict    bool
	worstOnly bool
}

func run(args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("bench", flag.ContinueOnError)
	flags.SetOutput(stderr)
	var o options
	flags.IntVar(&o.count, "count", 5, "repetitions of each Go benchmark (medians are reported)")
	flags.IntVar(&o.runs, "runs", 5, "runs of each meshc process (median time, maximum RSS)")
	flags.StringVar(&o.benchtime, "benchtime", "100ms", "-test.benchtime of each Go benchmark repetition")
	flags.StringVar(&o.outDir, "o", defaultOutDir(), "`directory` the measured renders write into (default: a tmpfs when there is one)")
	flags.StringVar(&o.diskDir, "disk", os.TempDir(), "`directory` on disk for the render-to-disk runs")
	flags.BoolVar(&o.strict, "strict", false, "exit 1 when a target is missed")
	flags.BoolVar(&o.worstOnly, "worst", false, "run only the worst cases (hostile and extreme input)")
	route := flags.String("cuebaseline", "", "evaluate the CUE baseline on `FILE` and exit (used by bench itself)")
	helper := flags.Bool("spawn", false, "run the command that follows and print its time and rusage (used by bench itself; see spawn.go)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *helper {
		return spawnMain(flags.Args())
	}
	if *route != "" {
		data, err := os.ReadFile(*route)
		if err != nil {
			return err
		}
		_, err = cuebaseline.Export(*route, data)
		return err
	}

	tmp, err := os.MkdirTemp("", "meshc-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	out, err := os.MkdirTemp(o.outDir, "meshc-bench-out-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(out)

	root, err := moduleRoot()
	if err != nil {
		return err
	}
	load0 := loadAvg()
	fmt.Fprintln(stderr, "building meshc and the compiler's test binary")
	meshc := filepath.Join(tmp, "meshc")
	if err := goCmd(stderr, root, "build", "-o", meshc, "./cmd/meshc"); err != nil {
		return err
	}
	if o.worstOnly {
		worst, err := measureWorst(meshc, tmp, o)
		if err != nil {
			return err
		}
		missed := 0
		printWorst(stdout, worst, func(ok bool, what, got, want string) {
			verdict := "ok  "
			if !ok {
				verdict, missed = "MISS", missed+1
			}
			fmt.Fprintf(stdout, "  %s  %s  %s  %s\n", verdict, what, got, want)
		})
		if missed > 0 && o.strict {
			return errMissed
		}
		return nil
	}
	testBin := filepath.Join(tmp, "compiler.test")
	if err := goCmd(stderr, root, "test", "-c", "-o", testBin, "./compiler"); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}

	fmt.Fprintf(stderr, "running the Go benchmarks (-count %d)\n", o.count)
	start := time.Now()
	bench, err := goBenchmarks(testBin, filepath.Join(root, "compiler"), o)
	if err != nil {
		return err
	}
	dims, err := dimensionBenchmarks(testBin, filepath.Join(root, "compiler"), o)
	if err != nil {
		return err
	}
	growth, err := growthBenchmarks(testBin, filepath.Join(root, "compiler"), o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "  %s\n", time.Since(start).Round(time.Second))

	fmt.Fprintf(stderr, "running meshc and the CUE baseline as processes (%d runs each)\n", o.runs)
	start = time.Now()
	var procs []procRow
	for _, topo := range meshgen.Topologies {
		for _, n := range sizes {
			s := meshgen.Shape{Topology: topo, Clusters: n}
			if s.RemoteSecrets() > mesh.MaxRemoteSecrets {
				continue // refused: a 1000-primary mesh needs 999,000 remote secrets
			}
			row, err := measureShape(s, meshc, self, tmp, out, o)
			if err != nil {
				return fmt.Errorf("%v: %w", s, err)
			}
			procs = append(procs, row)
		}
	}
	// Shared services are a dimension of their own: the size the
	// shared-services target names, in both topologies.
	for _, s := range serviceShapes {
		row, err := measureShape(s, meshc, self, tmp, out, o)
		if err != nil {
			return fmt.Errorf("%v: %w", s, err)
		}
		procs = append(procs, row)
	}
	disk := map[meshgen.Shape]time.Duration{}
	for _, s := range targetShapes {
		d, err := renderToDisk(s, meshc, tmp, o)
		if err != nil {
			return fmt.Errorf("%v on disk: %w", s, err)
		}
		disk[s] = d
	}
	fmt.Fprintf(stderr, "  %s\n", time.Since(start).Round(time.Second))

	fmt.Fprintln(stderr, "running the worst cases")
	worst, err := measureWorst(meshc, tmp, o)
	if err != nil {
		return err
	}

	r := &report{bench: bench, dims: dims, growth: growth, procs: procs, disk: disk, worst: worst, o: o, load: [2]string{load0, loadAvg()}}
	if missed := r.print(stdout); missed > 0 && o.strict {
		return errMissed
	}
	return nil
}

// defaultOutDir is a tmpfs when the machine has one, so the render
// processes measure meshc rather than a disk shared with other work.
func defaultOutDir() string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if f, err := os.CreateTemp("/dev/shm", ".meshc-bench-probe-"); err == nil {
			f.Close()
			os.Remove(f.Name())
			return "/dev/shm"
		}
	}
	return os.TempDir()
}

// moduleRoot is the directory of meshc's go.mod, so bench runs from any
// directory inside the module.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run bench inside the meshc module (go env GOMOD is empty)")
	}
	return filepath.Dir(gomod), nil
}

func goCmd(stderr io.Writer, dir string, args ...string) error {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// benchKey names one Go benchmark: BenchmarkCheck/primary-remote/N=1000
// is {"Check", "primary-remote", 1000}.
type benchKey struct {
	name  string
	shape meshgen.Shape
}

// benchStat holds every repetition's numbers of one benchmark.
type benchStat struct {
	ns, bytes, allocs []float64
	// metrics are those reported with b.ReportMetric, by unit.
	metrics map[string][]float64
}

var (
	benchLine   = regexp.MustCompile(`^Benchmark(\w+)/([a-z-]+)/N=(\d+)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op((?:\s+[\d.e+-]+ \S+)*?)\s+(\d+) B/op\s+(\d+) allocs/op`)
	benchMetric = regexp.MustCompile(`([\d.e+-]+) (\S+)`)
)

func goBenchmarks(testBin, dir string, o options) (map[benchKey]*benchStat, error) {
	cmd := exec.Command(testBin, "-test.run", "^$", "-test.bench", "^Benchmark(Check|Render|Compile|CUEBaseline)$",
		"-test.benchmem", "-test.count", strconv.Itoa(o.count), "-test.benchtime", o.benchtime)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "MESHC_BENCH_LARGE=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outp, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("benchmarks: %w\n%s%s", err, outp, stderr.Bytes())
	}
	stats := parseBenchmarks(outp)
	if len(stats) == 0 {
		return nil, fmt.Errorf("benchmarks printed no results:\n%s", outp)
	}
	return stats, nil
}

// parseBenchmarks reads `go test -bench -benchmem` output: one line per
// benchmark and repetition.
func parseBenchmarks(outp []byte) map[benchKey]*benchStat {
	stats := map[benchKey]*benchStat{}
	sc := bufio.NewScanner(bytes.NewReader(outp))
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[3])
		k := benchKey{m[1], meshgen.Shape{Topology: meshgen.Topology(m[2]), Clusters: n}}
		st := stats[k]
		if st == nil {
			st = &benchStat{}
			stats[k] = st
		}
		ns, _ := strconv.ParseFloat(m[4], 64)
		b, _ := strconv.ParseFloat(m[6], 64)
		a, _ := strconv.ParseFloat(m[7], 64)
		st.ns, st.bytes, st.allocs = append(st.ns, ns), append(st.bytes, b), append(st.allocs, a)
		for _, mm := range benchMetric.FindAllStringSubmatch(m[5], -1) {
			v, err := strconv.ParseFloat(mm[1], 64)
			if err != nil {
				continue
			}
			if st.metrics == nil {
				st.metrics = map[string][]float64{}
			}
			st.metrics[mm[2]] = append(st.metrics[mm[2]], v)
		}
	}
	return stats
}

// procStat is one kind of process run, repeated.
type procStat struct {
	wall, cpu []time.Duration
	maxRSS    int64 // bytes, the largest of the runs
}

func (p *procStat) add(s spawned) {
	p.wall = append(p.wall, s.Wall)
	p.cpu = append(p.cpu, s.CPU)
	p.maxRSS = max(p.maxRSS, s.MaxRSS)
}

type procRow struct {
	shape            meshgen.Shape
	vet, render, cue procStat
	files            int
	outBytes         int64
}

func measureShape(s meshgen.Shape, meshc, self, tmp, out string, o options) (procRow, error) {
	row := procRow{shape: s}
	in := inputFile(tmp, s)
	if err := os.WriteFile(in, meshgen.Generate(s), 0o644); err != nil {
		return row, err
	}
	dir := filepath.Join(out, filepath.Base(in))
	// Every render after the first replaces the previous output, as a
	// re-render on each commit does.
	if err := repeat(&row.vet, o.runs, meshc, "vet", in); err != nil {
		return row, err
	}
	if err := repeat(&row.render, o.runs, meshc, "render", in, "-o", dir); err != nil {
		return row, err
	}
	if s.Services == 0 && s.Clusters <= cueBaselineLimit(s.Topology) { // the baseline models no services
		if err := repeat(&row.cue, min(o.runs, 3), self, "-cuebaseline", in); err != nil {
			return row, err
		}
	}
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		row.files++
		row.outBytes += info.Size()
		return nil
	})
	if err != nil {
		return row, err
	}
	return row, os.RemoveAll(dir)
}

// inputFile is where measureShape writes the Mesh file of s, which
// renderToDisk reads again.
func inputFile(tmp string, s meshgen.Shape) string {
	return filepath.Join(tmp, strings.ReplaceAll(s.String(), "/", "-")+".yaml")
}

// serviceShapes are meshes that share services: 300 clusters × 200 services.
var serviceShapes = []meshgen.Shape{
	{Topology: meshgen.PrimaryRemote, Clusters: 300, Services: 200},
	{Topology: meshgen.MultiPrimary, Clusters: 300, Services: 200},
}

// clusterCell is a table's N column: clusters, and shared services if any.
func clusterCell(s meshgen.Shape) string {
	if s.Services > 0 {
		return fmt.Sprintf("%d×%d svc", s.Clusters, s.Services)
	}
	return strconv.Itoa(s.Clusters)
}

// targetShapes are the meshes the render targets name; they are also
// rendered to disk, for information.
var targetShapes = []meshgen.Shape{
	{Topology: meshgen.PrimaryRemote, Clusters: 1000},
	{Topology: meshgen.MultiPrimary, Clusters: 300},
}

func renderToDisk(s meshgen.Shape, meshc, tmp string, o options) (time.Duration, error) {
	in := inputFile(tmp, s) // written by measureShape
	dir, err := os.MkdirTemp(o.diskDir, "meshc-bench-disk-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	var st procStat
	if err := repeat(&st, min(o.runs, 3), meshc, "render", in, "-o", filepath.Join(dir, "out")); err != nil {
		return 0, err
	}
	return median(st.wall), nil
}

// repeatBudget bounds the time spent repeating one measurement: a process
// that takes seconds (a 1000-primary mesh renders a 100 MB plan) is run
// until the budget is spent rather than runs times, so `make bench` stays
// within minutes. Every process runs at least once.
const repeatBudget = 4 * time.Second

func repeat(st *procStat, runs int, name string, args ...string) error {
	start := time.Now()
	for i := 0; i < runs && (i == 0 || time.Since(start) < repeatBudget); i++ {
		if err := timeProcess(st, name, args...); err != nil {
			return err
		}
	}
	return nil
}

func timeProcess(st *procStat, name string, args ...string) error {
	s, stderr, err := spawn("", name, args...)
	if err == nil && s.Exit != 0 {
		err = fmt.Errorf("%s %s: exit status %d\n%s", filepath.Base(name), strings.Join(args, " "), s.Exit, stderr)
	}
	if err != nil {
		return err
	}
	st.add(s)
	return nil
}

func median[T int64 | float64 | time.Duration](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

type report struct {
	bench  map[benchKey]*benchStat
	dims   []*dimensionRow
	growth []*growthRow
	procs  []procRow
	disk   map[meshgen.Shape]time.Duration
	worst  []worstRow
	o      options
	load   [2]string
}

func (r *report) ns(name string, s meshgen.Shape) (float64, bool) {
	st := r.bench[benchKey{name, s}]
	if st == nil {
		return 0, false
	}
	return median(st.ns), true
}

// ratio is the median over repetitions of BenchmarkCUEBaseline's CUE/compile:
// the CUE baseline's time over meshc's Compile on the same input, measured in
// alternation.
func (r *report) ratio(s meshgen.Shape) (float64, bool) {
	st := r.bench[benchKey{"CUEBaseline", s}]
	if st == nil || len(st.metrics["CUE/compile"]) == 0 {
		return 0, false
	}
	return median(st.metrics["CUE/compile"]), true
}

func (r *report) proc(s meshgen.Shape) *procRow {
	for i := range r.procs {
		if r.procs[i].shape == s {
			return &r.procs[i]
		}
	}
	return nil
}

func (r *report) print(w io.Writer) (missed int) {
	fmt.Fprintf(w, "meshc benchmarks: %d CPUs (%s), %s %s/%s; load average %s at start, %s at end\n",
		runtime.NumCPU(), cpuModel(), runtime.Version(), runtime.GOOS, runtime.GOARCH, r.load[0], r.load[1])

	fmt.Fprintf(w, "\nIn process (go test -bench, medians of %d): check = Load+Validate, render = Render,\n", r.o.count)
	fmt.Fprintln(w, "compile = both from bytes; CUE baseline = internal/cuebaseline on the same bytes. CUE/compile is measured")
	fmt.Fprintln(w, "by BenchmarkCUEBaseline, which alternates the CUE baseline and meshc's compile on the same input.")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "topology\tN\tcheck\tallocs\tbytes\trender\tallocs\tbytes\tcompile\tCUE baseline\tallocs\tbytes\tCUE/compile\t")
	for _, p := range r.procs {
		s := p.shape
		cells := []string{string(s.Topology), clusterCell(s)}
		for _, name := range []string{"Check", "Render"} {
			cells = append(cells, r.benchCells(name, s)...)
		}
		if compile, ok := r.ns("Compile", s); ok {
			cells = append(cells, dur(compile))
		} else {
			cells = append(cells, "—")
		}
		cells = append(cells, r.benchCells("CUEBaseline", s)...)
		if ratio, ok := r.ratio(s); ok {
			cells = append(cells, fmt.Sprintf("%.1f×", ratio))
		} else {
			cells = append(cells, "—")
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	tw.Flush()

	fmt.Fprintf(w, "\nWhole processes (median wall and CPU time of %d runs, fewer past %s; peak RSS the largest): meshc vet;\n", r.o.runs, repeatBudget)
	fmt.Fprintf(w, "meshc render, replacing its previous output in %s; the CUE baseline as its own process (%d runs).\n", r.o.outDir, min(r.o.runs, 3))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "topology\tN\tvet\tCPU\tRSS\trender\tCPU\tRSS\tfiles\toutput\tCUE baseline\tCPU\tRSS\t")
	for _, p := range r.procs {
		cells := []string{string(p.shape.Topology), clusterCell(p.shape)}
		for _, st := range []*procStat{&p.vet, &p.render} {
			cells = append(cells, procCells(st)...)
			if st == &p.render {
				cells = append(cells, strconv.Itoa(p.files), mb(float64(p.outBytes)))
			}
		}
		cells = append(cells, procCells(&p.cue)...)
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	tw.Flush()

	fmt.Fprintln(w, "\nTargets:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	check := func(ok bool, what, got, want string) {
		verdict := "ok  "
		if !ok {
			verdict = "MISS"
			missed++
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", verdict, what, got, want)
	}
	pr1000 := meshgen.Shape{Topology: meshgen.PrimaryRemote, Clusters: 1000}
	pr100 := meshgen.Shape{Topology: meshgen.PrimaryRemote, Clusters: 100}
	mp300 := meshgen.Shape{Topology: meshgen.MultiPrimary, Clusters: 300}
	small := r.proc(meshgen.Shape{Topology: meshgen.PrimaryRemote, Clusters: 3})
	if small != nil {
		t := median(small.vet.wall) + median(small.render.wall)
		check(t < 50*time.Millisecond, "3 clusters: meshc vet + meshc render, two processes", t.Round(time.Millisecond/10).String(), "< 50ms")
	}
	for _, s := range []meshgen.Shape{pr1000, mp300} {
		p := r.proc(s)
		if p == nil {
			continue
		}
		label := fmt.Sprintf("%d-cluster %s", s.Clusters, s.Topology)
		t := median(p.render.wall)
		check(t < 500*time.Millisecond, label+": meshc render process", t.Round(time.Millisecond).String(), "< 500ms")
		if s == pr1000 {
			check(p.render.maxRSS < 150<<20, label+": meshc render peak RSS", mb(float64(p.render.maxRSS)), "< 150 MB")
		}
		if ratio, ok := r.ratio(s); ok {
			check(ratio >= 5, label+": CUE baseline time / meshc compile time", fmt.Sprintf("%.1f×", ratio), "≥ 5×")
		}
		if pc := median(p.cue.wall); pc > 0 {
			fmt.Fprintf(tw, "  info\t%s: CUE baseline process / meshc render process\t%.1f×\t\n", label, float64(pc)/float64(t))
		}
		if d := r.disk[s]; d > 0 {
			fmt.Fprintf(tw, "  info\t%s: meshc render process writing to %s\t%s\t\n", label, r.o.diskDir, d.Round(time.Millisecond))
		}
	}
	if c1000, ok := r.ns("Compile", pr1000); ok {
		if c100, ok := r.ns("Compile", pr100); ok {
			check(c1000/c100 <= 12, "primary-remote compile time(1000) / time(100)", fmt.Sprintf("%.1f", c1000/c100), "≤ 12")
		}
	}
	mp1000 := meshgen.Shape{Topology: meshgen.MultiPrimary, Clusters: 1000}
	mp100 := meshgen.Shape{Topology: meshgen.MultiPrimary, Clusters: 100}
	if c1000, ok := r.ns("Compile", mp1000); ok {
		if c100, ok := r.ns("Compile", mp100); ok {
			fmt.Fprintf(tw, "  info\tmulti-primary compile time(1000) / time(100); its plan grows %d×\t%.1f\t\n",
				mp1000.RemoteSecrets()/mp100.RemoteSecrets(), c1000/c100)
		}
	}
	if p := r.proc(pr1000); p != nil {
		t := median(p.vet.wall)
		check(t < 300*time.Millisecond, "1000-cluster primary-remote: meshc vet process", t.Round(time.Millisecond).String(), "< 300ms")
	}
	for _, s := range serviceShapes {
		if p := r.proc(s); p != nil {
			t := median(p.render.wall)
			check(t < time.Second, fmt.Sprintf("%d clusters × %d services, %s: meshc render process", s.Clusters, s.Services, s.Topology), t.Round(time.Millisecond).String(), "< 1s")
		}
	}
	tw.Flush()
	if len(r.dims) > 0 {
		missed += printDimensions(w, r.dims, r.o.count)
	}
	if len(r.growth) > 0 {
		missed += printGrowth(w, r.growth, r.o.count)
	}
	if len(r.worst) > 0 {
		var lines []string
		printWorst(w, r.worst, func(ok bool, what, got, want string) {
			verdict := "ok  "
			if !ok {
				verdict = "MISS"
				missed++
			}
			lines = append(lines, fmt.Sprintf("  %s\t%s\t%s\t%s", verdict, what, got, want))
		})
		fmt.Fprintln(w, "\nWorst-case targets:")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, l := range lines {
			fmt.Fprintln(tw, l)
		}
		tw.Flush()
	}
	if missed > 0 {
		fmt.Fprintf(w, "\n%d target(s) missed.\n", missed)
	}
	return missed
}

func (r *report) benchCells(name string, s meshgen.Shape) []string {
	st := r.bench[benchKey{name, s}]
	if st == nil {
		return []string{"—", "—", "—"}
	}
	return []string{dur(median(st.ns)), count(median(st.allocs)), mb(median(st.bytes))}
}

func procCells(st *procStat) []string {
	if len(st.wall) == 0 {
		return []string{"—", "—", "—"}
	}
	return []string{dur(float64(median(st.wall))), dur(float64(median(st.cpu))), mb(float64(st.maxRSS))}
}

// dur prints nanoseconds with three significant digits.
func dur(ns float64) string {
	switch {
	case ns <= 0:
		return "—"
	case ns < 1e6:
		return fmt.Sprintf("%.3g µs", ns/1e3)
	case ns < 1e9:
		return fmt.Sprintf("%.3g ms", ns/1e6)
	}
	return fmt.Sprintf("%.3g s", ns/1e9)
}

func count(n float64) string {
	switch {
	case n < 1e3:
		return fmt.Sprintf("%.0f", n)
	case n < 1e6:
		return fmt.Sprintf("%.3gk", n/1e3)
	}
	return fmt.Sprintf("%.3gM", n/1e6)
}

func mb(b float64) string {
	if b < 1<<20 {
		return fmt.Sprintf("%.0f kB", b/1e3)
	}
	return fmt.Sprintf("%.3g MB", b/1e6)
}
