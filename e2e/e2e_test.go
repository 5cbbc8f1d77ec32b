package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// cases are the rehearsals `make e2e` runs. A new feature adds a row: an
// upgrade is a case whose next mesh has a newer istio.version; an external
// CA or ambient a mesh of its own under testdata/.
var cases = []Case{
	{
		Name:   "primary-remote-multi-network",
		Why:    "the istioctl path; a remote on its own network served through its primary's east-west gateway; day two adds a remote on a third network, then removes it",
		Meshes: []string{"examples/primary-remote-multi-network/mesh.yaml", "e2e/testdata/primary-remote-grown.yaml", "examples/primary-remote-multi-network/mesh.yaml"},
	},
	{
		Name:   "helm-multi-primary-multi-network",
		Why:    "the Helm path with declarative remote secrets: two primaries on two networks, each reading the other",
		Meshes: []string{"e2e/testdata/helm-multi-primary-multi-network.yaml"},
	},
	{
		Name:   "canary-upgrade",
		Why:    "a canary upgrade on the istioctl path: revision 1-30 of a primary-remote mesh on two networks, then 1-31 beside it, the tags moved, the workloads restarted, 1-30 removed once nothing runs it",
		Meshes: []string{"examples/revisions/mesh.yaml", "e2e/testdata/revisions-canary.yaml"},
	},
	{
		Name:   "helm-canary-upgrade",
		Why:    "a canary upgrade on the Helm path with declarative remote secrets: two primaries on two networks at revision 1-28, then istiod-1-29 beside it on each, the tag moved, the workloads restarted, istiod-1-28 uninstalled once nothing runs it",
		Meshes: []string{"e2e/testdata/helm-revisions-1-28.yaml", "e2e/testdata/helm-revisions-1-29.yaml"},
	},
	{
		Name:   "ambient-multi-network",
		Why:    "ambient on the istioctl path: three primaries on three networks with istio-cni, ztunnel and the ambient east-west gateway; the plan stops without the Gateway API CRDs, labels the global services, and istiod sends each ztunnel its own pods and the other networks' behind their gateways' HBONE port; day two, cluster3 leaves (its pods out of the data plane before its ztunnel goes) and a service becomes cluster-local",
		Meshes: []string{"e2e/testdata/ambient-three.yaml", "examples/ambient-multi-network/mesh.yaml"},
	},
	{
		Name:   "helm-ambient-multi-network",
		Why:    "ambient on the Helm path (the cni and ztunnel charts): the same mesh and checks as ambient-multi-network",
		Meshes: []string{"examples/helm-ambient-multi-network/mesh.yaml"},
	},
	{
		Name:   "shared-services",
		Why:    "shared namespaces and services: a service in one cluster only (a stub elsewhere) and a cluster-local one",
		Meshes: []string{"examples/shared-services/mesh.yaml"},
	},
}

var (
	tools Tools
	meshc string
	root  string
	// live are the rehearsals running, stopped on SIGINT or SIGTERM.
	live sync.Map
)

// TestMain builds (or finds cached) the servers and clients, builds meshc,
// and stops every server on an interrupt before exiting.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	flag.Parse()
	var err error
	if root, err = filepath.Abs(".."); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if testing.Short() || os.Getenv("MESHC_E2E") == "" {
		// Unit tests of the harness only (go test -short, or without
		// MESHC_E2E=1): no builds, no servers.
		return m.Run()
	}
	start := time.Now()
	if tools, err = build(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "e2e: tools ready in %.0fs\n", time.Since(start).Seconds())
	bin, err := os.MkdirTemp("", "meshc-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(bin)
	meshc = filepath.Join(bin, "meshc")
	// meshc builds in its own module, as users build it, not in this one's
	// dependency graph (which lacks the kustomize function's modules).
	cmd := exec.Command("go", "build", "-o", meshc, "./cmd/meshc")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build meshc: %v\n%s", err, out)
		return 1
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sig
		fmt.Fprintf(os.Stderr, "e2e: %v: stopping every server\n", s)
		live.Range(func(k, _ any) bool { _ = k.(*Rehearsal).Stop(); return true })
		os.Exit(130)
	}()
	return m.Run()
}

// build runs build.sh, which builds each tool once into its cache.
func build() (Tools, error) {
	cmd := exec.Command("./build.sh")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("build.sh: %w", err)
	}
	t := Tools{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			t[k] = v
		}
	}
	for _, k := range []string{"etcd", "kubernetes", "kwok", "helm", "istio", "gateway-api"} {
		if t[k] == "" {
			return nil, fmt.Errorf("build.sh printed no %s", k)
		}
	}
	return t, nil
}

func TestRehearsal(t *testing.T) {
	if tools == nil {
		t.Skip("the rehearsal runs with MESHC_E2E=1 (make e2e)")
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) { rehearse(t, c) })
	}
}

// rehearse runs one case: install with plan.sh, check, rotate, day two.
// The rehearsal's directory (logs of every server, the rendered output, the
// plans' output) is kept when it fails.
func rehearse(t *testing.T, c Case) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "meshc-e2e-"+c.Name+"-")
	if err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(dir, "rehearsal.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	log := io.MultiWriter(logFile, testWriter{t})
	t.Logf("%s: %s (directory %s)", c.Name, c.Why, dir)
	step := func(what string, f func() error) {
		t.Helper()
		start := time.Now()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		fmt.Fprintf(log, "e2e: %s: %s in %.1fs\n", c.Name, what, time.Since(start).Seconds())
	}
	// check is a step whose failure the rehearsal reports and goes past,
	// to show what comes next.
	check := func(what string, f func() error) {
		t.Helper()
		start := time.Now()
		if err := f(); err != nil {
			t.Errorf("%s: %v", what, err)
			return
		}
		fmt.Fprintf(log, "e2e: %s: %s in %.1fs\n", c.Name, what, time.Since(start).Seconds())
	}
	var r *Rehearsal
	t.Cleanup(func() {
		if r != nil {
			live.Delete(r)
			if err := r.Stop(); err != nil {
				t.Errorf("stop: %v", err)
			}
			for _, err := range r.StandIns.Errors() {
				t.Errorf("stand-in: %v", err)
			}
		}
		if t.Failed() {
			t.Logf("kept %s (logs of every server, the rendered output, the plans)", dir)
		} else {
			os.RemoveAll(dir)
		}
	})
	step("start the fleet", func() error {
		var err error
		r, err = Start(ctx, c, dir, root, meshc, tools, log)
		if r != nil {
			live.Store(r, true)
		}
		return err
	})
	e, err := r.Expect(0)
	if err != nil {
		t.Fatal(err)
	}
	step("render", r.Render)
	if e.Mesh.Ambient() {
		check("plan.sh stops without the Gateway API CRDs, having applied nothing", func() error {
			return CheckStoppedForGatewayAPI(r.RunInstall(), r.Fleet, e.Clusters())
		})
		step("the Gateway API CRDs, as PLAN.md says", func() error { return r.InstallGatewayAPI(ctx, e.Clusters()) })
	}
	step("plan.sh", r.RunInstall)
	if e.Mesh.Spec.RemoteSecrets == "declarative" {
		step("declarative remote secrets", func() error { return ApplyDeclarativeRemoteSecrets(ctx, r, "out0", e) })
	}
	if e.Mesh.Ambient() {
		// The plan labels the global services where they run; a user
		// whose services came after it runs it again, as it says.
		step("sample services deployed", func() error { return DeploySamples(ctx, r.Fleet, e, nil) })
		step("plan.sh again, after the services", r.RunInstall)
		step("global services labelled, with their waypoint", func() error { return CheckGlobalLabels(r.Fleet, e) })
	}
	verify(t, ctx, r, e, nil, step)
	// Rotate the first primary's secret for the first other cluster.
	p, src := e.Primaries()[0], ""
	for _, cl := range e.Clusters() {
		if cl != p && src == "" {
			src = cl
		}
	}
	step(fmt.Sprintf("rotate %s's remote secret for %s", p, src), func() error { return RotateRemoteSecret(r, p, src) })
	if e.Mesh.Ambient() && e.Network[p] != e.Network[src] {
		step(fmt.Sprintf("whether %s's istiod still sends network %s's gateway", p, e.Network[src]), func() error {
			seen, err := ObserveGatewayAfterRotation(ctx, r.Fleet, e, r.StandIns.Istiod, p, src)
			fmt.Fprintf(log, "e2e: %s: after the rotation, %s\n", c.Name, seen)
			return err
		})
		step("restart "+p+"'s istiod, as docs/ambient.md says after a remote secret changes", func() error { return r.RestartIstiod(ctx, p) })
	}
	verify(t, ctx, r, e, map[string]int{src: 2}, step)

	before, err := CreateUserObjects(r.Fleet)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(c.Meshes); i++ {
		prev, err := r.Expect(i - 1)
		if err != nil {
			t.Fatal(err)
		}
		next, err := r.Load(i)
		if err != nil {
			t.Fatal(err)
		}
		canary := next.Spec.Istio.Revision != prev.Mesh.Spec.Istio.Revision
		var leaving []string
		for _, cl := range prev.Clusters() {
			if next.Cluster(cl) == nil {
				leaving = append(leaving, cl)
			}
		}
		switch {
		case canary:
			canaryUntilGuard(t, ctx, r, i, prev, verifyReplicas(src), step, check)
		case prev.Mesh.Ambient() && len(leaving) > 0:
			ambientLeaveUntilGuard(t, ctx, r, i, prev, leaving, step, check)
		default:
			step(fmt.Sprintf("change plan to %s", c.Meshes[i]), func() error { return r.Change(ctx, i) })
		}
		// After the change: a cluster it adds has a fleet index only now,
		// and the stand-in load balancer's addresses follow the index.
		e, err := r.Expect(i)
		if err != nil {
			t.Fatal(err)
		}
		if canary {
			old := prev.Revision()
			step("no cluster holds revision "+old, func() error { return CheckRevisionGone(ctx, r.Fleet, r.StandIns, e, old) })
			step("tags at revision "+e.Revision(), func() error { return CheckTags(r.Fleet, e) })
		}
		step("the servers hold the new mesh", func() error {
			return CheckServersHold(ctx, r, e, fmt.Sprintf("out%d", i-1), fmt.Sprintf("out%d", i))
		})
		step("user objects untouched", func() error { return CheckUserObjects(r.Fleet, before) })
		verify(t, ctx, r, e, verifyReplicas(src), step)
	}
}

func verifyReplicas(src string) map[string]int { return map[string]int{src: 2} }

// canaryUntilGuard runs a canary upgrade's change plan to the i-th Mesh
// with a bare pod of the old revision in each sample namespace: the plan
// must stop at its remove-revision guard. There, both revisions run on
// every primary, both synced; the tags point at the new revision; the
// workloads the plan restarted run the new revision's proxies, the bare
// pods still the old one's. Then the bare pods go, as the guard asks, and
// the plan runs again to its end.
func canaryUntilGuard(t *testing.T, ctx context.Context, r *Rehearsal, i int, prev *Expectations, replicas map[string]int, step, check func(string, func() error)) {
	t.Helper()
	step("bare pods of revision "+prev.Revision(), func() error { return CreatePinned(ctx, r.Fleet, prev) })
	start := time.Now()
	planErr := r.Change(ctx, i)
	fmt.Fprintf(r.Log, "e2e: %s: change plan to %s, until it stopped, in %.1fs\n", r.Case.Name, r.Case.Meshes[i], time.Since(start).Seconds())
	e, err := r.Expect(i)
	if err != nil {
		t.Fatal(err)
	}
	check("the remove-revision guard stops at the bare pods", func() error { return CheckGuardStopped(planErr, prev) })
	if planErr == nil {
		return
	}
	var pe *PlanError
	if !errors.As(planErr, &pe) || !strings.Contains(pe.Step, "Remove the old revision") {
		t.Fatalf("change plan to %s: %v", r.Case.Meshes[i], planErr)
	}
	check("two istiods per primary, both synced", func() error {
		return CheckBothRevisions(ctx, r.StandIns, e, prev.Revision(), e.Revision())
	})
	check("tags at revision "+e.Revision(), func() error { return CheckTags(r.Fleet, e) })
	check("restarted workloads injected by "+e.Revision(), func() error { return DeploySamples(ctx, r.Fleet, e, replicas) })
	check("bare pods still on "+prev.Revision(), func() error { return CheckPinned(ctx, r.Fleet, prev) })
	step("delete the bare pods", func() error { return DeletePinned(ctx, r.Fleet, prev) })
	step(fmt.Sprintf("change plan to %s, again", r.Case.Meshes[i]), func() error { return r.RunChange(i) })
}

// ambientLeaveUntilGuard runs the change plan to the i-th Mesh, in which
// clusters leave an ambient mesh, with a pod in each leaving cluster put in
// the data plane by its own label: the plan must take the shared namespaces
// out first and then stop at its capture check, listing that pod, before it
// uninstalls anything. Then the pod goes, as the check asks, and the plan
// runs again to its end.
func ambientLeaveUntilGuard(t *testing.T, ctx context.Context, r *Rehearsal, i int, prev *Expectations, leaving []string, step, check func(string, func() error)) {
	t.Helper()
	ns := prev.Services[0].Namespace
	step(fmt.Sprintf("a pod of %v in the data plane by its own label", leaving), func() error { return CreateCaptured(ctx, r.Fleet, leaving, ns) })
	start := time.Now()
	planErr := r.Change(ctx, i)
	fmt.Fprintf(r.Log, "e2e: %s: change plan to %s, until it stopped, in %.1fs\n", r.Case.Name, r.Case.Meshes[i], time.Since(start).Seconds())
	check("the capture check stops the uninstall at that pod, the namespaces released", func() error {
		return CheckAmbientGuardStopped(planErr, r.Fleet, leaving, ns)
	})
	if planErr == nil {
		return
	}
	var pe *PlanError
	if !errors.As(planErr, &pe) || !strings.Contains(pe.Step, "Uninstall Istio") {
		t.Fatalf("change plan to %s: %v", r.Case.Meshes[i], planErr)
	}
	step("delete the captured pod", func() error { return DeleteCaptured(ctx, r.Fleet, leaving, ns) })
	step(fmt.Sprintf("change plan to %s, again", r.Case.Meshes[i]), func() error { return r.RunChange(i) })
}

// verify checks what a running mesh promises: samples deployed and
// injected, every primary synced with exactly its clusters, endpoints per
// network over xDS, remotes' webhooks at their primary.
func verify(t *testing.T, ctx context.Context, r *Rehearsal, e *Expectations, replicas map[string]int, step func(string, func() error)) {
	t.Helper()
	for _, err := range r.StandIns.Errors() {
		t.Fatalf("stand-in: %v", err)
	}
	if e.Mesh.Ambient() {
		step("sample services deployed, none injected", func() error { return DeploySamples(ctx, r.Fleet, e, replicas) })
		step("primaries synced (/debug/clusterz)", func() error { return CheckSynced(ctx, e, r.StandIns.Istiod) })
		step("every ztunnel's workloads over WDS", func() error { return CheckZtunnels(ctx, r.Fleet, e, r.StandIns.Istiod) })
		step("services labelled global and with their waypoint as the Mesh says", func() error { return CheckGlobalLabels(r.Fleet, e) })
		return
	}
	step("sample services deployed and injected", func() error { return DeploySamples(ctx, r.Fleet, e, replicas) })
	step("primaries synced (/debug/clusterz)", func() error { return CheckSynced(ctx, e, r.StandIns.Istiod) })
	step("endpoints per network over xDS", func() error { return CheckEndpoints(ctx, r.Fleet, e, r.StandIns.Istiod) })
	step("remotes' webhooks at their primary", func() error { return CheckRemoteWebhooks(r.Fleet, e) })
}

// testWriter sends the rehearsal's log to the test's, line by line.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
