package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// An ambient mesh's plan needs what the cluster owns first: the Gateway API
// CRDs (PLAN.md, phase gateway-api). The rehearsal runs plan.sh once without
// them, where it must stop before applying anything, installs them as
// PLAN.md says, and runs it again. Then it checks what ztunnels are sent:
// no ztunnel runs on a simulated node, so the harness asks istiod over WDS
// as each cluster's ztunnel would.

// gatewayAPIStep is the plan's step that checks the CRDs.
const gatewayAPIStep = "Gateway API CRDs"

// CheckStoppedForGatewayAPI: plan.sh, run on clusters without the Gateway
// API CRDs, stopped at its check for them, and no cluster holds anything it
// would have applied (istio-system is the first thing it creates).
func CheckStoppedForGatewayAPI(planErr error, f *Fleet, clusters []string) error {
	pe, ok := planErr.(*PlanError)
	if planErr == nil {
		return fmt.Errorf("plan.sh ran to its end on clusters without the Gateway API CRDs")
	}
	if !ok || !strings.Contains(pe.Step, gatewayAPIStep) {
		return fmt.Errorf("plan.sh stopped, but not at its Gateway API check: %v", planErr)
	}
	if !strings.Contains(pe.Answer, "PLAN.md, phase gateway-api") {
		return fmt.Errorf("plan.sh stopped at its Gateway API check without saying what to do: %q", pe.Answer)
	}
	var errs []string
	for _, cl := range clusters {
		if err := f.Clusters[cl].Kube.Get("/api/v1/namespaces/istio-system", nil); !NotFound(err) {
			errs = append(errs, fmt.Sprintf("%s: istio-system exists after the plan stopped at its first step (%v)", cl, err))
		}
	}
	return joinErrs(errs)
}

// InstallGatewayAPI installs the Gateway API CRDs in each cluster as PLAN.md
// says, `kubectl kustomize <config/crd> | kubectl apply`, from the release
// Istio pins (build.sh, tool gateway-api), and waits until they serve.
func (r *Rehearsal) InstallGatewayAPI(ctx context.Context, clusters []string) error {
	dir := filepath.Join(r.Fleet.Tools["gateway-api"], "crd")
	for _, cl := range clusters {
		c := r.Fleet.Clusters[cl]
		script := fmt.Sprintf("kubectl kustomize %q | kubectl --context=%q apply --server-side --field-manager=e2e-platform -f -", dir, c.Context)
		cmd := exec.Command("bash", "-o", "pipefail", "-c", script)
		cmd.Env, cmd.Dir = append(os.Environ(), r.Env()...), r.Dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %s: %v\n%s", cl, script, err, out)
		}
		if err := waitFor(ctx, time.Minute, cl+": Gateways served", func() error {
			return c.Kube.Get("/apis/gateway.networking.k8s.io/v1/gateways", nil)
		}); err != nil {
			return err
		}
	}
	return nil
}

// notInjected: a pod of an ambient mesh has no sidecar; ztunnel captures
// its traffic.
func notInjected(p *pod) error {
	for _, c := range p.Spec.Containers {
		if c.Name == "istio-proxy" {
			return fmt.Errorf("pod %s/%s has a sidecar in an ambient mesh", p.Metadata.Namespace, p.Metadata.Name)
		}
	}
	if st := p.Metadata.Annotations["sidecar.istio.io/status"]; st != "" {
		return fmt.Errorf("pod %s/%s was injected (%s) in an ambient mesh", p.Metadata.Namespace, p.Metadata.Name, st)
	}
	return nil
}

// CheckGlobalLabels: every Service of a global service, in every cluster
// that holds it (where it runs, and the stubs where it is only called), is
// labelled istio.io/global=true; every Service of a service that names a
// waypoint is labelled istio.io/use-waypoint with it; a service that is not
// global is not labelled global.
func CheckGlobalLabels(f *Fleet, e *Expectations) error {
	var errs []string
	for _, s := range e.Services {
		want := map[string]string{}
		if s.Global {
			want["istio.io/global"] = "true"
		}
		if s.Waypoint != "" {
			want["istio.io/use-waypoint"] = s.Waypoint
		}
		holders := slices.Clone(s.Clusters)
		if s.Global {
			holders = append(holders, s.Consumers...) // and the stubs
		}
		sort.Strings(holders)
		for _, cl := range slices.Compact(holders) {
			var svc service
			err := f.Clusters[cl].Kube.Get(fmt.Sprintf("/api/v1/namespaces/%s/services/%s", s.Namespace, s.Name), &svc)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: Service %s/%s: %v", cl, s.Namespace, s.Name, err))
				continue
			}
			got := map[string]string{}
			for _, k := range []string{"istio.io/global", "istio.io/use-waypoint"} {
				if v, ok := svc.Metadata.Labels[k]; ok {
					got[k] = v
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				errs = append(errs, fmt.Sprintf("%s: Service %s/%s is labelled %v, want %v", cl, s.Namespace, s.Name, got, want))
			}
		}
	}
	return joinErrs(errs)
}

// CheckZtunnels asks each primary's istiod over WDS, as the ztunnel of each
// cluster it serves, what it sends for every service, and compares with
// what the Mesh promises (Expectations.Ztunnel) from the pods that run.
func CheckZtunnels(ctx context.Context, f *Fleet, e *Expectations, istiod func(string) *Istiod) error {
	var errs []string
	for _, from := range e.Clusters() {
		i := istiod(e.Primary[from])
		if i == nil {
			errs = append(errs, fmt.Sprintf("%s: its primary %s runs no istiod", from, e.Primary[from]))
			continue
		}
		var keys []string
		for _, s := range e.Services {
			keys = append(keys, s.Key())
		}
		want := func() (map[string][]string, error) {
			w := map[string][]string{}
			for _, s := range e.Services {
				var err error
				w[s.Key()] = e.Ztunnel(from, s, func(cl string) []string {
					ips, perr := PodIPs(f.Clusters[cl].Kube, s.Namespace, s.Name)
					if perr != nil {
						err = perr
					}
					return ips
				})
				if err != nil {
					return nil, err
				}
			}
			return w, nil
		}
		z := Ztunnel{Cluster: from, Network: e.Network[from], IP: fmt.Sprintf("10.%d.255.1", 100+f.Clusters[from].Index), IstioVersion: e.Mesh.Spec.Istio.Version}
		var last, wanted map[string][]string
		var gateways []string
		err := waitFor(ctx, 3*time.Minute, fmt.Sprintf("WDS of %s's istiod for a ztunnel of %s", i.Cluster, from), func() error {
			var err error
			if wanted, err = want(); err != nil {
				return err
			}
			if last, gateways, err = ZtunnelView(ctx, i.XDS(), z, keys); err != nil {
				return err
			}
			if fmt.Sprint(last) != fmt.Sprint(wanted) {
				return fmt.Errorf("differs")
			}
			return nil
		})
		if err == nil {
			continue
		}
		n := len(errs)
		for _, k := range keys {
			if fmt.Sprint(last[k]) != fmt.Sprint(wanted[k]) {
				errs = append(errs, fmt.Sprintf("%s's istiod sends a ztunnel of %s (network %s) %s for %s, want %s (network gateways it sent: %v)",
					i.Cluster, from, e.Network[from], describeView(last[k]), k, describeView(wanted[k]), gateways))
			}
		}
		if len(errs) == n {
			errs = append(errs, err.Error())
		}
	}
	return joinErrs(errs)
}

func describeView(v []string) string {
	if len(v) == 0 {
		return "no workloads"
	}
	return "[" + strings.Join(v, ", ") + "]"
}

// An upstream defect the rehearsal found: in an ambient mesh on several
// networks, when a remote secret changes (a token rotated, as External
// Secrets does from its store), the reading istiod rebuilds that cluster's
// informers, and sometimes not its east-west gateways (no
// NetworkGateways[<cluster>] collection is built again after the old
// connection's stops, pilot/pkg/serviceregistry/ambient/networks.go), so its
// ztunnels lose every workload of that network until istiod restarts. It is
// a race: four of the first ten rotations watched hit it. docs/ambient.md tells
// users to restart istiod after a remote secret changes; the rehearsal logs
// whether the defect showed, then restarts as the docs say and checks the
// mesh again.

// ObserveGatewayAfterRotation reports whether, after source's remote secret
// in primary changed, primary's istiod dropped source's network gateway
// from what it sends its ztunnels and kept it dropped for holdFor.
func ObserveGatewayAfterRotation(ctx context.Context, f *Fleet, e *Expectations, istiod func(string) *Istiod, primary, source string) (string, error) {
	const watch, holdFor = 30 * time.Second, 15 * time.Second
	nw := e.Network[source]
	i := istiod(primary)
	if i == nil {
		return "", fmt.Errorf("%s runs no istiod", primary)
	}
	z := Ztunnel{Cluster: primary, Network: e.Network[primary], IP: fmt.Sprintf("10.%d.255.1", 100+f.Clusters[primary].Index), IstioVersion: e.Mesh.Spec.Istio.Version}
	sends := func() (bool, error) {
		_, gws, err := ZtunnelView(ctx, i.XDS(), z, nil)
		return slices.Contains(gws, nw), err
	}
	var dropped time.Time
	for start := time.Now(); time.Since(start) < watch || !dropped.IsZero(); time.Sleep(time.Second) {
		on, err := sends()
		switch {
		case err != nil:
			return "", err
		case on && !dropped.IsZero():
			return fmt.Sprintf("%s's istiod dropped network %s's gateway and sent it again within %s", primary, nw, time.Since(dropped).Round(time.Second)), nil
		case !on && dropped.IsZero():
			dropped = time.Now()
		case !on && time.Since(dropped) > holdFor:
			return fmt.Sprintf("the upstream defect: %s's istiod dropped network %s's gateway and had not sent it again %s later", primary, nw, holdFor), nil
		}
	}
	return fmt.Sprintf("%s's istiod kept sending network %s's gateway for %s", primary, nw, watch), nil
}

// RestartIstiod runs what docs/ambient.md tells a user to after a remote
// secret changes, and waits until the stand-in runs the new pod's istiod.
func (r *Rehearsal) RestartIstiod(ctx context.Context, primary string) error {
	old := r.StandIns.Istiod(primary)
	c := r.Fleet.Clusters[primary]
	script := fmt.Sprintf("kubectl --context=%[1]q -n istio-system rollout restart deployment/istiod && kubectl --context=%[1]q -n istio-system rollout status deployment/istiod --timeout=300s", c.Context)
	cmd := exec.Command("bash", "-c", script)
	cmd.Env, cmd.Dir = append(os.Environ(), r.Env()...), r.Dir
	out, err := cmd.CombinedOutput()
	fmt.Fprintf(r.Log, "$ %s\n%s", script, out)
	if err != nil {
		return fmt.Errorf("%s: %v", script, err)
	}
	return waitFor(ctx, 2*time.Minute, primary+"'s new istiod", func() error {
		if i := r.StandIns.Istiod(primary); i == nil || i == old {
			return fmt.Errorf("the stand-in still runs the old istiod")
		}
		return nil
	})
}

// The istio-cni stand-in. istio-cni's node agent puts a pod into the ambient
// data plane (its traffic redirected to ztunnel inside the pod's network
// namespace) when the pod or its namespace is labelled
// istio.io/dataplane-mode=ambient (a pod's own "none" wins), takes it out
// when that no longer holds, and records which on the pod as the annotation
// ambient.istio.io/redirection. It does so only while it runs: uninstalling
// it leaves every pod as it was. The stand-in keeps the annotation so, in a
// cluster whose istio-system has the agent's DaemonSet.
const (
	dataPlaneModeLabel    = "istio.io/dataplane-mode"
	redirectionAnnotation = "ambient.istio.io/redirection"
	cniDaemonSet          = "istio-cni-node"
)

// reconcileCapture annotates the cluster's pods as istio-cni would.
func reconcileCapture(k *Kube) error {
	if err := k.Get("/apis/apps/v1/namespaces/istio-system/daemonsets/"+cniDaemonSet, nil); err != nil {
		return nil // no node agent: nothing changes a pod's capture
	}
	var nsl struct {
		Items []Object `json:"items"`
	}
	if err := k.Get("/api/v1/namespaces", &nsl); err != nil {
		return err
	}
	nsMode := map[string]string{}
	for _, n := range nsl.Items {
		nsMode[n.Metadata.Name] = n.Metadata.Labels[dataPlaneModeLabel]
	}
	var pl podList
	if err := k.Get("/api/v1/pods", &pl); err != nil {
		return err
	}
	for _, p := range pl.Items {
		if p.Metadata.DeletionTimestamp != "" || p.Metadata.Namespace == "istio-system" {
			continue
		}
		mode := p.Metadata.Labels[dataPlaneModeLabel]
		if mode == "" {
			mode = nsMode[p.Metadata.Namespace]
		}
		captured := mode == "ambient"
		if _, has := p.Metadata.Annotations[redirectionAnnotation]; has == captured {
			continue
		}
		var val any // null removes the annotation
		if captured {
			val = "enabled"
		}
		patch := map[string]any{"metadata": map[string]any{"annotations": map[string]any{redirectionAnnotation: val}}}
		path := fmt.Sprintf("/api/v1/namespaces/%s/pods/%s", url.PathEscape(p.Metadata.Namespace), url.PathEscape(p.Metadata.Name))
		if err := k.Do("PATCH", path, "application/merge-patch+json", patch, nil); err != nil && !NotFound(err) {
			return err
		}
	}
	return nil
}

// ambientGuardMark is in the message of the plan's capture check
// (render/ambient_change.go).
const ambientGuardMark = "are still in its data plane"

// capturedName is the harness's pod put into the ambient data plane by its
// own label: a user's, which no namespace label of the plan releases.
const capturedName = "captured-by-pod-label"

// CreateCaptured creates, in each cluster, a bare pod in ns labelled
// istio.io/dataplane-mode=ambient, and waits until istio-cni (its
// stand-in) marks it captured.
func CreateCaptured(ctx context.Context, f *Fleet, clusters []string, ns string) error {
	for _, cl := range clusters {
		k := f.Clusters[cl].Kube
		p := fmt.Sprintf(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":%q,"namespace":%q,"labels":{"app":%q,%q:"ambient"}},
"spec":{"containers":[{"name":"app","image":"registry.invalid/e2e/captured:1"}]}}`, capturedName, ns, capturedName, dataPlaneModeLabel)
		if err := apply(k, fmt.Sprintf("/api/v1/namespaces/%s/pods/%s", ns, capturedName), p); err != nil {
			return fmt.Errorf("%s: %w", cl, err)
		}
		if err := waitFor(ctx, time.Minute, cl+": "+capturedName+" captured", func() error {
			var got pod
			if err := k.Get(fmt.Sprintf("/api/v1/namespaces/%s/pods/%s", ns, capturedName), &got); err != nil {
				return err
			}
			if got.Metadata.Annotations[redirectionAnnotation] != "enabled" {
				return fmt.Errorf("not marked captured")
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// DeleteCaptured deletes the pods CreateCaptured made.
func DeleteCaptured(ctx context.Context, f *Fleet, clusters []string, ns string) error {
	for _, cl := range clusters {
		if err := deletePod(ctx, f.Clusters[cl], ns, capturedName); err != nil {
			return err
		}
	}
	return nil
}

// CheckAmbientGuardStopped: the change plan stopped in its uninstall phase
// at the check that no pod of a leaving cluster is still captured, listing
// exactly the pod captured by its own label; by then the plan had taken the
// cluster's shared namespaces out of the data plane (their pods released)
// and had not yet uninstalled istio-cni.
func CheckAmbientGuardStopped(planErr error, f *Fleet, leaving []string, ns string) error {
	var pe *PlanError
	if !errors.As(planErr, &pe) {
		return fmt.Errorf("the change plan ran to its end (or failed outside a step: %v); want it stopped before uninstalling, as a pod is still captured", planErr)
	}
	if !strings.Contains(pe.Step, "Uninstall Istio") || len(pe.Clusters) == 0 || !slices.Contains(leaving, pe.Clusters[0]) {
		return fmt.Errorf("want the plan stopped by the capture check of a leaving cluster; it failed elsewhere: %w", pe)
	}
	cl := pe.Clusters[0]
	if got, want := guardListedPods(pe.Answer, ambientGuardMark), []string{capturedName}; !slices.Equal(got, want) {
		return fmt.Errorf("the capture check on %s lists pods %v, want %v; its answer:\n%s", cl, got, want, indent(pe.Answer))
	}
	k := f.Clusters[cl].Kube
	var errs []string
	var n Object
	if err := k.Get("/api/v1/namespaces/"+ns, &n); err != nil {
		errs = append(errs, err.Error())
	} else if v, ok := n.Metadata.Labels[dataPlaneModeLabel]; ok {
		errs = append(errs, fmt.Sprintf("%s: namespace %s still has %s=%s", cl, ns, dataPlaneModeLabel, v))
	}
	if err := k.Get("/apis/apps/v1/namespaces/istio-system/daemonsets/"+cniDaemonSet, nil); err != nil {
		errs = append(errs, fmt.Sprintf("%s: istio-cni is gone before the check passed: %v", cl, err))
	}
	var pl podList
	if err := k.Get("/api/v1/namespaces/"+ns+"/pods", &pl); err != nil {
		errs = append(errs, err.Error())
	}
	for _, p := range pl.Items {
		if _, captured := p.Metadata.Annotations[redirectionAnnotation]; captured != (p.Metadata.Name == capturedName) {
			errs = append(errs, fmt.Sprintf("%s: pod %s/%s captured=%v", cl, ns, p.Metadata.Name, captured))
		}
	}
	return joinErrs(errs)
}
