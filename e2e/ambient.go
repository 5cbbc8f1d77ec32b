package e2e

import (
	"context"
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

// CheckNotInjected: no pod of an ambient mesh's services has a sidecar;
// ztunnel captures their traffic.
func CheckNotInjected(f *Fleet, e *Expectations) error {
	var errs []string
	for _, s := range e.Services {
		for _, cl := range s.Clusters {
			var l podList
			if err := f.Clusters[cl].Kube.Get(fmt.Sprintf("/api/v1/namespaces/%s/pods?labelSelector=%s", s.Namespace, url.QueryEscape("app="+s.Name)), &l); err != nil {
				errs = append(errs, err.Error())
				continue
			}
			for _, p := range l.Items {
				if err := notInjected(&p); err != nil {
					errs = append(errs, fmt.Sprintf("%s: %v", cl, err))
				}
			}
		}
	}
	return joinErrs(errs)
}

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
// a race: one of the first four rotations hit it. docs/ambient.md tells
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
