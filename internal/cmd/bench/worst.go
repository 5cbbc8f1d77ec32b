package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"meshc.dev/meshc/internal/meshgen"
	"meshc.dev/meshc/krm"
	"meshc.dev/meshc/mesh"
)

// worstCase is hostile or extreme input: under meshc's caps its time and
// memory must stay linear in the input, past them meshc must refuse it
// quickly, naming the limit. Each was measured before the caps existed
// (issue #19): the numbers in before are from that meshc on 2 busy cores
// (wall times inflated by the load; CPU times where given).
type worstCase struct {
	name   string
	before string
	input  func() []byte
	args   []string // IN is replaced by the input file, OUT by a fresh output directory
	stdin  bool     // the input goes to stdin (meshc fn)
	exit   int
	time   time.Duration // target: median wall time
	rss    float64       // target: peak RSS, bytes
}

const meshHead = `apiVersion: meshc.dev/v1alpha1
kind: Mesh
metadata:
  name: worst
spec:
  meshID: mesh1
  topology: %s
  istio:
    version: "1.28.0"
  networks:
    - name: network1
  clusters:
    - name: cluster1
      network: network1
      role: primary
      eastWestGateway: {address: 192.0.2.1}
`

func meshOf(topology string, f func(b *bytes.Buffer)) func() []byte {
	return func() []byte {
		var b bytes.Buffer
		fmt.Fprintf(&b, meshHead, topology)
		f(&b)
		return b.Bytes()
	}
}

var worstCases = []worstCase{
	{
		name: "100,000 unknown keys under spec (1.2 MB)", before: "67 s, 344 MB",
		input: meshOf("multi-primary", func(b *bytes.Buffer) {
			for i := range 100000 {
				fmt.Fprintf(b, "  k%d: 1\n", i)
			}
		}),
		args: []string{"vet", "IN"}, exit: 1, time: time.Second, rss: 150e6,
	},
	{
		name: "3,500 clusters × 100 unknown keys (3.1 MB; MaxNodes)", before: "801 s (285 s CPU), 785 MB",
		input: meshOf("multi-primary", func(b *bytes.Buffer) {
			for i := range 3500 {
				fmt.Fprintf(b, "    - {name: c%d, network: network1, role: primary", i)
				for k := range 100 {
					fmt.Fprintf(b, ", k%d: 1", k)
				}
				b.WriteString("}\n")
			}
		}),
		args: []string{"vet", "IN"}, exit: 1, time: 3 * time.Second, rss: 400e6,
	},
	{
		name: "900 clusters × 100 unknown keys (0.8 MB)", before: "147 s (19 s CPU), 221 MB",
		input: meshOf("multi-primary", func(b *bytes.Buffer) {
			for i := range 900 {
				fmt.Fprintf(b, "    - {name: c%d, network: network1, role: primary", i)
				for k := range 100 {
					fmt.Fprintf(b, ", k%d: 1", k)
				}
				b.WriteString("}\n")
			}
		}),
		args: []string{"vet", "IN"}, exit: 1, time: 3 * time.Second, rss: 300e6,
	},
	{
		name: "50,000 clusters (3.5 MB; MaxItems is 5,000)", before: "7.9 s, 927 MB",
		input: meshOf("primary-remote", func(b *bytes.Buffer) {
			for i := range 50000 {
				fmt.Fprintf(b, "    - {name: c%d, network: network1, role: remote, controlPlane: cluster1}\n", i)
			}
		}),
		args: []string{"vet", "IN"}, exit: 1, time: 2 * time.Second, rss: 300e6,
	},
	{
		name: "4,999 clusters with three bad values each", before: "1.8 s CPU, 187 MB",
		input: meshOf("multi-primary", func(b *bytes.Buffer) {
			for i := range 4999 {
				fmt.Fprintf(b, "    - {name: C%d, network: Network1, role: prim}\n", i)
			}
		}),
		args: []string{"vet", "IN"}, exit: 1, time: 4 * time.Second, rss: 300e6,
	},
	{
		name: "4 MiB of lists of lists (800 × 5,000 items)", before: "over 10 min, 2.2 GB when killed (issue #22)",
		input: meshOf("multi-primary", func(b *bytes.Buffer) {
			inner := "[1" + strings.Repeat(",1", mesh.MaxItems-1) + "]"
			b.WriteString("  x: [" + inner + strings.Repeat(","+inner, mesh.MaxInputSize/len(inner)-2) + "]\n")
		}),
		args: []string{"vet", "IN"}, exit: 1, time: time.Second, rss: 150e6,
	},
	{
		name: "50 lists of 5,000 items (MaxItemsTotal, under MaxNodes)", before: "—",
		input: meshOf("multi-primary", func(b *bytes.Buffer) {
			inner := "[1" + strings.Repeat(",1", mesh.MaxItems-1) + "]"
			b.WriteString("  x: [" + inner + strings.Repeat(","+inner, 49) + "]\n")
		}),
		args: []string{"vet", "IN"}, exit: 1, time: time.Second, rss: 300e6,
	},
	{
		name: "260,000 one-byte keys in one mapping (under MaxNodes)", before: "—",
		input: meshOf("multi-primary", func(b *bytes.Buffer) {
			b.WriteString("  x: {k" + strings.Repeat(",k", mesh.MaxNodes/2-1000) + "}\n")
		}),
		args: []string{"vet", "IN"}, exit: 1, time: time.Second, rss: 300e6,
	},
	{
		name: "500 clusters × 5,000 services everywhere: render --check", before: "21 s (4.8 s CPU), 284 MB (issue #22)",
		input: everywhere(500, 5000),
		args:  []string{"render", "--check", "IN", "-o", "OUT"}, exit: 1, time: 3 * time.Second, rss: 300e6,
	},
	{
		name: "1,000 clusters × 5,000 services everywhere: render --check", before: "44 s (10 s CPU), 562 MB (issue #22)",
		input: everywhere(1000, 5000),
		args:  []string{"render", "--check", "IN", "-o", "OUT"}, exit: 1, time: 3 * time.Second, rss: 300e6,
	},
	{
		name: "4,999 misspelt clusters in a service of a 5,000-cluster mesh", before: "22 s (7.1 s CPU), 444 MB (issue #22)",
		input: meshOf("primary-remote", func(b *bytes.Buffer) {
			for i := range 4999 {
				fmt.Fprintf(b, "    - {name: c%d, network: network1, role: remote, controlPlane: cluster1}\n", i)
			}
			b.WriteString("  namespaces:\n    - name: app\n  services:\n    - name: svc\n      namespace: app\n      ports: [{name: http, port: 80}]\n      clusters:\n")
			for i := range 4999 {
				fmt.Fprintf(b, "        - cx%d\n", i)
			}
		}),
		args: []string{"vet", "IN"}, exit: 1, time: 2 * time.Second, rss: 300e6,
	},
	{
		name: "5,000-cluster primary-remote (MaxItems): render", before: "same",
		input: meshOf("primary-remote", func(b *bytes.Buffer) {
			for i := range 4999 {
				fmt.Fprintf(b, "    - {name: c%d, network: network1, role: remote, controlPlane: cluster1}\n", i)
			}
		}),
		args: []string{"render", "IN", "-o", "OUT"}, exit: 0, time: 4 * time.Second, rss: 300e6,
	},
	{
		name: "1,000-cluster multi-primary (999,000 remote secrets): plan --format json", before: "same",
		input: meshOf("multi-primary", func(b *bytes.Buffer) {
			for i := range 999 {
				fmt.Fprintf(b, "    - {name: c%d, network: network1, role: primary}\n", i)
			}
		}),
		args: []string{"plan", "--format", "json", "IN"}, exit: 0, time: 10 * time.Second, rss: 1.5e9,
	},
	{
		name: "1,500-cluster multi-primary: plan --format json", before: "14 s, 2.3 GB",
		input: meshOf("multi-primary", func(b *bytes.Buffer) {
			for i := range 1499 {
				fmt.Fprintf(b, "    - {name: c%d, network: network1, role: primary}\n", i)
			}
		}),
		args: []string{"plan", "--format", "json", "IN"}, exit: 1, time: time.Second, rss: 100e6,
	},
	{
		name: "meshc fn, 40 MB on stdin", before: "no cap",
		input: func() []byte {
			return append([]byte("kind: ResourceList\nitems:\n"), bytes.Repeat([]byte("- {a: 1234567890123456789012}\n"), 40<<20/30)...)
		},
		args: []string{"fn"}, stdin: true, exit: 2, time: time.Second, rss: 150e6,
	},
	{
		name: "meshc fn, 200,000 one-key items (1.8 MB)", before: "6.4 s, 1.7 GB (issue #22)",
		input: resourceList(func(b *bytes.Buffer) {
			b.Write(bytes.Repeat([]byte("- {a: 1}\n"), 200000))
		}),
		args: []string{"fn"}, stdin: true, exit: 2, time: time.Second, rss: 150e6,
	},
	{
		name: "meshc fn, 10,000 one-key items (MaxResources)", before: "—",
		input: resourceList(func(b *bytes.Buffer) {
			b.Write(bytes.Repeat([]byte("- {a: 1}\n"), krm.MaxResources))
		}),
		args: []string{"fn"}, stdin: true, exit: 0, time: 2 * time.Second, rss: 300e6,
	},
	{
		name: "meshc fn, one item of 65,000 one-byte keys (MaxNodes)", before: "—",
		input: resourceList(func(b *bytes.Buffer) {
			b.WriteString("- {a: {k")
			b.Write(bytes.Repeat([]byte(",k"), krm.MaxNodes/2-400))
			b.WriteString("}}\n")
		}),
		args: []string{"fn"}, stdin: true, exit: 0, time: 2 * time.Second, rss: 300e6,
	},
	{
		name: "meshc fn, a 16 MB string and 65,000 keys (MaxInputSize, MaxNodes)", before: "—",
		input: resourceList(func(b *bytes.Buffer) {
			b.WriteString("- {a: ")
			b.Write(bytes.Repeat([]byte("x"), krm.MaxInputSize-krm.MaxNodes-4000))
			b.WriteString("}\n- {a: {k")
			b.Write(bytes.Repeat([]byte(",k"), krm.MaxNodes/2-400))
			b.WriteString("}}\n")
		}),
		args: []string{"fn"}, stdin: true, exit: 0, time: 2 * time.Second, rss: 300e6,
	},
}

// everywhere is a primary-remote mesh of clusters clusters sharing services
// services that run and are consumed in every cluster: its facts are a
// product, its input and output are not.
func everywhere(clusters, services int) func() []byte {
	return func() []byte {
		b := bytes.NewBuffer(meshgen.Generate(meshgen.Shape{Topology: meshgen.PrimaryRemote, Clusters: clusters}))
		b.WriteString("  namespaces:\n    - name: app\n  services:\n")
		for k := range services {
			fmt.Fprintf(b, "    - {name: svc-%05d, namespace: app, ports: [{name: http, port: 8080}]}\n", k)
		}
		return b.Bytes()
	}
}

// resourceList is a ResourceList for meshc fn: a small Mesh as its
// functionConfig, then the items items writes.
func resourceList(items func(b *bytes.Buffer)) func() []byte {
	return func() []byte {
		var b bytes.Buffer
		b.WriteString("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nfunctionConfig:\n")
		for line := range strings.Lines(fmt.Sprintf(meshHead, "multi-primary")) {
			b.WriteString("  " + line)
			if line == "  name: worst\n" {
				b.WriteString("    annotations: {meshc.dev/cluster: cluster1}\n")
			}
		}
		b.WriteString("items:\n")
		items(&b)
		return b.Bytes()
	}
}

// Limits names the caps the worst cases run into, for the report.
var limits = fmt.Sprintf("MaxInputSize %d MiB, MaxNodes %d, MaxKeys %d, MaxKeysTotal %d, MaxItems %d, MaxItemsTotal %d, MaxProblems %d, MaxRemoteSecrets %d; meshc fn %d MiB, MaxNodes %d, MaxResources %d",
	mesh.MaxInputSize>>20, mesh.MaxNodes, mesh.MaxKeys, mesh.MaxKeysTotal, mesh.MaxItems, mesh.MaxItemsTotal, mesh.MaxProblems, mesh.MaxRemoteSecrets,
	krm.MaxInputSize>>20, krm.MaxNodes, krm.MaxResources)

type worstRow struct {
	c  worstCase
	st procStat
}

func measureWorst(meshc, tmp string, o options) ([]worstRow, error) {
	var rows []worstRow
	for i, c := range worstCases {
		in := filepath.Join(tmp, fmt.Sprintf("worst-%d.yaml", i))
		if err := os.WriteFile(in, c.input(), 0o644); err != nil {
			return nil, err
		}
		row := worstRow{c: c}
		start := time.Now()
		for run := 0; run < min(o.runs, 3) && (run == 0 || time.Since(start) < repeatBudget); run++ {
			out := filepath.Join(o.outDir, fmt.Sprintf("meshc-bench-worst-%d", i))
			args := make([]string, len(c.args))
			for j, a := range c.args {
				args[j] = strings.NewReplacer("IN", in, "OUT", out).Replace(a)
			}
			err := timeExit(&row.st, c.exit, c.stdin, in, meshc, args...)
			os.RemoveAll(out)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.name, err)
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// timeExit is timeProcess for a process that must exit with code, its
// stdin the input file when stdin is set.
func timeExit(st *procStat, code int, stdin bool, in, name string, args ...string) error {
	if !stdin {
		in = ""
	}
	s, stderr, err := spawn(in, name, args...)
	if err != nil {
		return err
	}
	if s.Exit != code {
		return fmt.Errorf("%s %s: exit %d, want exit %d\n%s", filepath.Base(name), strings.Join(args, " "), s.Exit, code, stderr)
	}
	st.add(s)
	return nil
}

// printWorst prints the worst cases and checks their targets.
func printWorst(w io.Writer, rows []worstRow, check func(ok bool, what, got, want string)) {
	fmt.Fprintf(w, "\nWorst cases (meshc as a process; median wall and CPU time, peak RSS). Caps: %s.\n", limits)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "input\texit\twall\tCPU\tRSS\tbefore the caps\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t\n", r.c.name, r.c.exit,
			median(r.st.wall).Round(time.Millisecond), median(r.st.cpu).Round(time.Millisecond), mb(float64(r.st.maxRSS)), r.c.before)
	}
	tw.Flush()
	for _, r := range rows {
		t := median(r.st.wall)
		check(t < r.c.time, "worst case, "+r.c.name+": time", t.Round(time.Millisecond).String(), "< "+r.c.time.String())
		check(float64(r.st.maxRSS) < r.c.rss, "worst case, "+r.c.name+": peak RSS", mb(float64(r.st.maxRSS)), "< "+mb(r.c.rss))
	}
}
