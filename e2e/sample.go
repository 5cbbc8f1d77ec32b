package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// DeploySamples deploys every service the Mesh promises endpoints for: a
// Deployment and a Service in each cluster it runs in, in a namespace with
// sidecar injection, so each pod goes through its cluster's injection
// webhook (a remote's calls its primary's istiod); in an ambient mesh, in an
// ambient namespace, where no pod may be injected. Pods run on the
// simulated node. A namespace the plan made (shared namespaces) is only
// used, never changed.
func DeploySamples(ctx context.Context, f *Fleet, e *Expectations, replicas map[string]int) error {
	for _, s := range e.Services {
		for _, cl := range s.Clusters {
			k := f.Clusters[cl].Kube
			nsPath := "/api/v1/namespaces/" + s.Namespace
			if err := k.Get(nsPath, nil); NotFound(err) {
				ns := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": s.Namespace, "labels": s.Labels}}
				if err := k.Do("POST", "/api/v1/namespaces", "application/json", ns, nil); err != nil {
					return fmt.Errorf("%s: %w", cl, err)
				}
			} else if err != nil {
				return fmt.Errorf("%s: %w", cl, err)
			}
			n := replicas[cl]
			if n == 0 {
				n = 1
			}
			dep := fmt.Sprintf(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":%[1]q,"namespace":%[2]q},
"spec":{"replicas":%[4]d,"selector":{"matchLabels":{"app":%[1]q}},"template":{"metadata":{"labels":{"app":%[1]q}},
"spec":{"containers":[{"name":"app","image":"registry.invalid/e2e/%[1]s:1","ports":[{"containerPort":%[3]d}]}]}}}}`, s.Name, s.Namespace, s.Port, n)
			svc := fmt.Sprintf(`{"apiVersion":"v1","kind":"Service","metadata":{"name":%[1]q,"namespace":%[2]q},
"spec":{"selector":{"app":%[1]q},"ports":[{"name":"http","port":%[3]d,"targetPort":%[3]d}]}}`, s.Name, s.Namespace, s.Port)
			if err := apply(k, fmt.Sprintf("/apis/apps/v1/namespaces/%s/deployments/%s", s.Namespace, s.Name), dep); err != nil {
				return fmt.Errorf("%s: %w", cl, err)
			}
			if err := apply(k, fmt.Sprintf("/api/v1/namespaces/%s/services/%s", s.Namespace, s.Name), svc); err != nil {
				return fmt.Errorf("%s: %w", cl, err)
			}
		}
	}
	// Every pod Running and injected: the webhook answered.
	for _, s := range e.Services {
		for _, cl := range s.Clusters {
			k := f.Clusters[cl].Kube
			want := replicas[cl]
			if want == 0 {
				want = 1
			}
			err := waitFor(ctx, 5*time.Minute, fmt.Sprintf("%s: %d injected, running pod(s) of %s/%s", cl, want, s.Namespace, s.Name), func() error {
				var l podList
				if err := k.Get(fmt.Sprintf("/api/v1/namespaces/%s/pods?labelSelector=app%%3D%s", s.Namespace, s.Name), &l); err != nil {
					return err
				}
				var ready []string
				for _, p := range l.Items {
					if p.Metadata.DeletionTimestamp != "" {
						continue // replaced by a restart, going
					}
					check := func(p *pod) error { return injectedBy(p, s.Revision) }
					if s.Ambient {
						check = notInjected
					}
					if err := check(&p); err != nil {
						return err
					}
					if p.Status.Phase == "Running" && p.Status.PodIP != "" {
						ready = append(ready, p.Metadata.Name)
					}
				}
				if len(ready) != want {
					return fmt.Errorf("running: %v", ready)
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("%w\nevents in %s of %s:\n%s", err, s.Namespace, cl, podEvents(k, s.Namespace))
			}
		}
	}
	return nil
}

// apply server-side applies one object (JSON) with the harness's field
// manager.
func apply(k *Kube, path, obj string) error {
	return k.Do("PATCH", path+"?fieldManager=meshc-e2e&force=true", "application/apply-patch+yaml", []byte(obj), nil)
}

// podEvents explains a pod that did not appear: its ReplicaSet's events
// (a webhook's refusal shows there).
func podEvents(k *Kube, ns string) string {
	var l struct {
		Items []struct {
			Reason, Message string
		} `json:"items"`
	}
	if err := k.Get("/api/v1/namespaces/"+ns+"/events", &l); err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, e := range l.Items {
		fmt.Fprintf(&b, "%s: %s\n", e.Reason, e.Message)
	}
	return b.String()
}

// injectedBy checks that a pod was injected by revision rev's istiod: it
// has a sidecar, the revision the injector records (the annotation
// istio.io/rev) is rev, and its proxy connects to rev's istiod Service.
func injectedBy(p *pod, rev string) error {
	var proxy *container
	for i := range p.Spec.Containers {
		if p.Spec.Containers[i].Name == "istio-proxy" {
			proxy = &p.Spec.Containers[i]
		}
	}
	if proxy == nil {
		return fmt.Errorf("pod %s/%s has no istio-proxy container: not injected", p.Metadata.Namespace, p.Metadata.Name)
	}
	if got := p.Metadata.Annotations["istio.io/rev"]; got != rev {
		return fmt.Errorf("pod %s/%s injected by revision %q, want %q", p.Metadata.Namespace, p.Metadata.Name, got, rev)
	}
	want := IstiodService(rev) + ".istio-system.svc:15012"
	for _, e := range proxy.Env {
		if e.Name != "PROXY_CONFIG" {
			continue
		}
		var pc struct {
			DiscoveryAddress string `json:"discoveryAddress"`
		}
		if err := json.Unmarshal([]byte(e.Value), &pc); err != nil {
			return fmt.Errorf("pod %s/%s: PROXY_CONFIG: %w", p.Metadata.Namespace, p.Metadata.Name, err)
		}
		if pc.DiscoveryAddress == "" {
			// Unset in the mesh config: the proxy's default
			// (pkg/config/mesh DefaultProxyConfig), the default revision's.
			pc.DiscoveryAddress = "istiod.istio-system.svc:15012"
		}
		if pc.DiscoveryAddress != want {
			return fmt.Errorf("pod %s/%s: its proxy connects to %s, want %s", p.Metadata.Namespace, p.Metadata.Name, pc.DiscoveryAddress, want)
		}
		return nil
	}
	return fmt.Errorf("pod %s/%s: istio-proxy has no PROXY_CONFIG", p.Metadata.Namespace, p.Metadata.Name)
}
