package compiler_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.yaml.in/yaml/v3"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/render"
)

// topology is one mesh shape, built as YAML so it goes through the same
// Load and Validate as a user's file.
type topology struct {
	name      string
	n         int // clusters
	primaries int // the first `primaries` clusters are primaries
	networks  int // clusters are spread round-robin over this many networks
	// declarative sets spec.remoteSecrets: declarative.
	declarative bool
}

func (tp topology) yaml() string {
	var b strings.Builder
	kind := mesh.PrimaryRemote
	if tp.primaries == tp.n {
		kind = mesh.MultiPrimary
	}
	fmt.Fprintf(&b, "apiVersion: meshc.dev/v1alpha1\nkind: Mesh\nmetadata:\n  name: t\nspec:\n  meshID: mesh1\n  topology: %s\n", kind)
	b.WriteString("  istio:\n    version: \"1.28.0\"\n  networks:\n")
	for k := 1; k <= tp.networks; k++ {
		fmt.Fprintf(&b, "    - name: network%d\n", k)
	}
	if tp.declarative {
		b.WriteString("  remoteSecrets: declarative\n")
	}
	b.WriteString("  clusters:\n")
	for i := 1; i <= tp.n; i++ {
		fmt.Fprintf(&b, "    - name: c%d\n      context: ctx-c%d\n      network: network%d\n", i, i, (i-1)%tp.networks+1)
		if i <= tp.primaries {
			fmt.Fprintf(&b, "      role: primary\n      eastWestGateway:\n        address: 192.0.2.%d\n", i)
		} else {
			// Remotes are spread over the primaries.
			fmt.Fprintf(&b, "      role: remote\n      controlPlane: c%d\n      eastWestGateway: {}\n", (i-1)%tp.primaries+1)
		}
	}
	return b.String()
}

func topologies() []topology {
	var out []topology
	for n := 2; n <= 6; n++ {
		for p := 1; p <= n; p++ {
			for _, nets := range []int{1, 2} {
				// Declarative remote secrets on two networks only: both
				// modes meet every cluster count and primary count.
				out = append(out, topology{name: fmt.Sprintf("n%d-p%d-net%d", n, p, nets), n: n, primaries: p, networks: nets, declarative: nets == 2})
			}
		}
	}
	return out
}

var phaseOrder = []string{
	render.PhaseNamespaces, render.PhaseCACerts, render.PhaseBase, render.PhasePrimaries, render.PhasePrimaryGateways,
	render.PhaseExpose, render.PhaseRemoteSecrets, render.PhaseRemotes, render.PhaseRemoteGateways,
}

// TestPlanTopologies checks, for every mesh of 2 to 6 clusters with 1 to N
// primaries on one or two networks, the remote-secret pairs (P×(N−1): each
// primary reads every other cluster, so N×(N−1) for multi-primary and N−1
// for one primary) and the ordering rules of the Istio guides.
func TestPlanTopologies(t *testing.T) {
	for _, tp := range topologies() {
		t.Run(tp.name, func(t *testing.T) {
			m, out, err := compiler.Compile("mesh.yaml", []byte(tp.yaml()))
			if err != nil {
				t.Fatalf("%v\n%s", err, tp.yaml())
			}
			p := render.BuildPlan(m)
			want := tp.primaries * (tp.n - 1)

			// Pairs: exactly every (primary, other cluster), nothing else.
			var pairs, wantPairs []string
			for _, s := range mesh.RemoteSecrets(m) {
				pairs = append(pairs, s.Reader.Name+"<-"+s.Source.Name)
			}
			for r := 1; r <= tp.primaries; r++ {
				for s := 1; s <= tp.n; s++ {
					if s != r {
						wantPairs = append(wantPairs, fmt.Sprintf("c%d<-c%d", r, s))
					}
				}
			}
			if diff := cmp.Diff(wantPairs, pairs); diff != "" {
				t.Errorf("remote-secret pairs (-want +got):\n%s", diff)
			}
			if len(pairs) != want {
				t.Errorf("%d remote secrets, want P×(N−1) = %d×%d = %d", len(pairs), tp.primaries, tp.n-1, want)
			}

			// Phases appear in the guides' order, each at most once.
			var ids []string
			for _, ph := range p.Phases {
				ids = append(ids, ph.ID)
			}
			if !isSubsequence(ids, phaseOrder) {
				t.Errorf("phases %v are not in the order %v", ids, phaseOrder)
			}

			// Where each (phase, cluster) step is, to compare positions.
			at := map[string]int{}
			stepsIn := map[string]int{}
			for i, ph := range p.Phases {
				for _, s := range ph.Steps {
					key := ph.ID + "/" + s.Cluster
					if ph.ID == render.PhaseRemoteSecrets {
						key += "<-" + s.Source
					}
					at[key] = i
					stepsIn[ph.ID]++
					if s.Context != "ctx-"+s.Cluster {
						t.Errorf("%s: step for %s runs in context %q", ph.ID, s.Cluster, s.Context)
					}
				}
			}
			before := func(a, b string) {
				t.Helper()
				ia, oka := at[a]
				ib, okb := at[b]
				if !oka || !okb || ia >= ib {
					t.Errorf("want %s before %s (positions %d %v, %d %v)", a, b, ia, oka, ib, okb)
				}
			}
			if stepsIn[render.PhaseRemoteSecrets] != want {
				t.Errorf("remote-secrets phase has %d steps, want %d", stepsIn[render.PhaseRemoteSecrets], want)
			}
			for i := 1; i <= tp.n; i++ {
				c := fmt.Sprintf("c%d", i)
				// istio-system, then cacerts, before anything is installed:
				// istiod started without cacerts makes its own root.
				before(render.PhaseNamespaces+"/"+c, render.PhaseCACerts+"/"+c)
				install := render.PhasePrimaries + "/" + c
				if i > tp.primaries {
					install = render.PhaseRemotes + "/" + c
					primary := fmt.Sprintf("c%d", (i-1)%tp.primaries+1)
					// A remote's injection webhook and xDS go to its
					// primary's istiod, reached through its exposed gateway,
					// which must already read the remote's API server.
					before(render.PhasePrimaries+"/"+primary, install)
					before(render.PhasePrimaryGateways+"/"+primary, install)
					before(render.PhaseExpose+"/"+primary, install)
					before(render.PhaseRemoteSecrets+"/"+primary+"<-"+c, install)
					before(install, render.PhaseRemoteGateways+"/"+c)
				} else {
					before(install, render.PhasePrimaryGateways+"/"+c)
				}
				before(render.PhaseCACerts+"/"+c, install)
			}

			// The declarative remote secrets match the pairs: one Secret per
			// pair in the reader, reader access in every cluster read. With
			// istioctl there are none: the plan's commands create them.
			var secrets, access []string
			for _, f := range out.Files {
				switch path.Base(path.Dir(f.Path)) {
				case render.RemoteSecretsDir:
					secrets = append(secrets, f.Path)
				case render.RemoteAccessDir:
					access = append(access, f.Path)
				}
			}
			read := tp.n // with two primaries or more, every cluster is read
			if tp.primaries == 1 {
				read = tp.n - 1 // nobody reads the only primary
			}
			if !tp.declarative {
				want, read = 0, 0
			}
			if len(secrets) != want {
				t.Errorf("%d files in remote-secrets/, want %d", len(secrets), want)
			}
			if len(access) != read {
				t.Errorf("%d clusters have remote-access/, want %d: %v", len(access), read, access)
			}
		})
	}
}

func isSubsequence(got, order []string) bool {
	i := 0
	for _, g := range got {
		for i < len(order) && order[i] != g {
			i++
		}
		if i == len(order) {
			return false
		}
		i++
	}
	return true
}

// TestPlanFormatsAgree checks that the Markdown, the shell script and the
// JSON carry the same commands in the same order, and that the JSON reads
// back into the plan.
func TestPlanFormatsAgree(t *testing.T) {
	for _, ex := range examples(t) {
		t.Run(ex, func(t *testing.T) {
			m, err := compiler.Vet("mesh.yaml", mustRead(t, "../examples/"+ex+"/mesh.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			p := render.BuildPlan(m)
			var want []string
			for _, ph := range p.Phases {
				for _, s := range ph.Steps {
					want = append(want, s.Command)
				}
			}
			md, err := render.RenderPlan(p, render.PlanMarkdown, render.ShellOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, commands(string(md), true)); diff != "" {
				t.Errorf("markdown commands (-plan +markdown):\n%s", diff)
			}
			sh, err := render.RenderPlan(p, render.PlanShell, render.ShellOptions{OutDir: "out dir"})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, commands(string(sh), false)); diff != "" {
				t.Errorf("shell commands (-plan +shell):\n%s", diff)
			}
			for _, line := range []string{"#!/usr/bin/env bash\n", "\nset -euo pipefail\n", "\ncd -- 'out dir'\n"} {
				if !strings.Contains(string(sh), line) {
					t.Errorf("shell script lacks %q", line)
				}
			}
			js, err := render.RenderPlan(p, render.PlanJSON, render.ShellOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var back render.Plan
			if err := json.Unmarshal(js, &back); err != nil {
				t.Fatal(err)
			}
			// The picture is for PLAN.md; the JSON carries the steps only.
			if diff := cmp.Diff(p, &back, cmpopts.IgnoreFields(render.Plan{}, "Diagram"), cmpopts.IgnoreUnexported(render.Step{})); diff != "" {
				t.Errorf("JSON does not read back (-plan +json):\n%s", diff)
			}
		})
	}
}

// commands extracts the command lines of a rendered plan: inside ```sh
// fences for Markdown, after the set-up for the shell script.
func commands(text string, markdown bool) []string {
	var out []string
	in := false
	for _, l := range strings.Split(text, "\n") {
		if markdown {
			switch {
			case l == "```sh":
				in = true
			case l == "```":
				in = false
			case in:
				out = append(out, l)
			}
			continue
		}
		if strings.HasPrefix(l, "echo '==> 1.") {
			in = true
		}
		if in && l != "" && !strings.HasPrefix(l, "echo ") {
			out = append(out, l)
		}
	}
	return out
}

// TestRemoteSecretShape reads a rendered remote secret as Istio would: the
// name, label and annotation its secret controller keys on, and a kubeconfig
// whose only cluster is named after the cluster, with placeholders instead
// of credentials.
func TestRemoteSecretShape(t *testing.T) {
	_, out, err := compiler.Compile("mesh.yaml", mustRead(t, "../examples/multi-primary-multi-network/mesh.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	f := out.Lookup("cluster2/remote-secrets/istio-remote-secret-cluster1.yaml")
	if f == nil {
		t.Fatal("no remote secret for cluster1 in cluster2")
	}
	var s struct {
		APIVersion, Kind string
		Metadata         struct {
			Name, Namespace string
			Labels          map[string]string
			Annotations     map[string]string
		}
		StringData map[string]string `yaml:"stringData"`
	}
	if err := yaml.Unmarshal(f.Data, &s); err != nil {
		t.Fatal(err)
	}
	if s.Kind != "Secret" || s.Metadata.Name != "istio-remote-secret-cluster1" || s.Metadata.Namespace != "istio-system" ||
		s.Metadata.Labels["istio/multiCluster"] != "true" || s.Metadata.Annotations["networking.istio.io/cluster"] != "cluster1" {
		t.Errorf("secret metadata: %+v", s.Metadata)
	}
	if len(s.StringData) != 1 {
		t.Fatalf("want one kubeconfig keyed by the cluster name, got keys %v", slices.Collect(maps.Keys(s.StringData)))
	}
	var kc struct {
		Clusters []struct {
			Name    string
			Cluster map[string]string
		}
		CurrentContext string `yaml:"current-context"`
		Users          []struct {
			Name string
			User map[string]string
		}
	}
	if err := yaml.Unmarshal([]byte(s.StringData["cluster1"]), &kc); err != nil {
		t.Fatalf("kubeconfig: %v", err)
	}
	if len(kc.Clusters) != 1 || kc.Clusters[0].Name != "cluster1" || kc.CurrentContext != "cluster1" {
		t.Errorf("kubeconfig cluster/context names: %+v", kc)
	}
	if got := kc.Clusters[0].Cluster["server"]; got != "https://198.51.100.1:6443" {
		t.Errorf("server = %q, want the Mesh's apiServer", got)
	}
	if got := kc.Users[0].User["token"]; got != "${MESHC_CLUSTER1_TOKEN}" {
		t.Errorf("token = %q, want a placeholder", got)
	}
	// cluster2 gives no apiServer: its server is a placeholder too.
	if f := out.Lookup("cluster1/remote-secrets/istio-remote-secret-cluster2.yaml"); f == nil ||
		!strings.Contains(string(f.Data), "server: ${MESHC_CLUSTER2_API_SERVER}") {
		t.Error("cluster2's secret does not mark its unknown API server")
	}
}
