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
// labelled istio.io/global=true and names its waypoint; a service that is
// not global carries neither label.
func CheckGlobalLabels(f *Fleet, e *Expectations) error {
	var errs []string
	for _, s := range e.Services {
		want := map[string]string{}
		if s.Global {
			want["istio.io/global"] = "true"
			if s.Waypoint != "" {
				want["istio.io/use-waypoint"] = s.Waypoint
			}
		}
		holders := append(slices.Clone(s.Clusters), s.Consumers...)
		sort.Strings(holders)
		for _, cl := range slices.Compact(holders) {
			var svc service
			err := f.Clusters[cl].Kube.Get(fmt.Sprintf("/api/v1/namespaces/%s/services/%s", s.Namespace, s.Name), &svc)
			if NotFound(err) && !s.Global {
				continue // not global: no stub where it does not run
			}
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
