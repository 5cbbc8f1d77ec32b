package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"time"
)

// httpGet decodes the JSON at u into out (or only checks the status).
func httpGet(u string, out any) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", u, resp.StatusCode, strings.TrimSpace(string(data)))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// converge polls got until it equals want or timeout passes; the error
// shows both.
func converge[T any](ctx context.Context, timeout time.Duration, what string, want T, got func() (T, error)) error {
	var last T
	var lastErr error
	err := waitFor(ctx, timeout, what, func() error {
		last, lastErr = got()
		if lastErr != nil {
			return lastErr
		}
		if !reflect.DeepEqual(last, want) {
			return fmt.Errorf("got %v, want %v", last, want)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: got %v, want %v (last error: %v)", what, last, want, lastErr)
	}
	return nil
}

// SyncedClusters is istiod's /debug/clusterz: the clusters it reads, those
// not synced marked "(status)".
func SyncedClusters(i *Istiod) ([]string, error) {
	var cs []struct {
		ID         string `json:"id"`
		SyncStatus string `json:"syncStatus"`
	}
	if err := httpGet(i.Debug+"/debug/clusterz", &cs); err != nil {
		return nil, err
	}
	var ids []string
	for _, c := range cs {
		id := c.ID
		if c.SyncStatus != "synced" {
			id += " (" + c.SyncStatus + ")"
		}
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, nil
}

// CheckSynced: every primary reads exactly the clusters the Mesh says, all
// synced.
func CheckSynced(ctx context.Context, e *Expectations, istiod func(string) *Istiod) error {
	var errs []string
	for _, p := range e.Primaries() {
		i := istiod(p)
		if i == nil {
			errs = append(errs, p+": istiod is not running")
			continue
		}
		if err := converge(ctx, 3*time.Minute, p+"'s istiod /debug/clusterz", e.Synced(p), func() ([]string, error) { return SyncedClusters(i) }); err != nil {
			errs = append(errs, err.Error())
		}
	}
	return joinErrs(errs)
}

// PodIPs are the addresses of the running pods of app in ns.
func PodIPs(k *Kube, ns, app string) ([]string, error) {
	var l podList
	if err := k.Get(fmt.Sprintf("/api/v1/namespaces/%s/pods?labelSelector=%s", ns, url.QueryEscape("app="+app)), &l); err != nil {
		return nil, err
	}
	var ips []string
	for _, p := range l.Items {
		if p.Status.Phase == "Running" && p.Status.PodIP != "" {
			ips = append(ips, p.Status.PodIP)
		}
	}
	sort.Strings(ips)
	return ips, nil
}

// CheckEndpoints asks, for every service and every cluster that calls it,
// the istiod serving that cluster over xDS as a proxy of that cluster would,
// and compares with what the Mesh promises.
func CheckEndpoints(ctx context.Context, f *Fleet, e *Expectations, istiod func(string) *Istiod) error {
	var errs []string
	for _, s := range e.Services {
		podIPs := func(cluster string) []string {
			ips, err := PodIPs(f.Clusters[cluster].Kube, s.Namespace, s.Name)
			if err != nil {
				errs = append(errs, err.Error())
			}
			return ips
		}
		envoyCluster := fmt.Sprintf("outbound|%d||%s.%s.svc.cluster.local", s.Port, s.Name, s.Namespace)
		for _, from := range s.Consumers {
			want := e.Endpoints(from, s, podIPs)
			i := istiod(e.Primary[from])
			if i == nil {
				errs = append(errs, fmt.Sprintf("%s: its primary %s runs no istiod", from, e.Primary[from]))
				continue
			}
			proxy := Proxy{Cluster: from, Network: e.Network[from], Namespace: s.Namespace,
				IP: fmt.Sprintf("10.%d.255.1", 100+f.Clusters[from].Index), IstioVersion: e.Mesh.Spec.Istio.Version}
			what := fmt.Sprintf("endpoints of %s for a proxy of %s (network %s) from %s's istiod", envoyCluster, from, e.Network[from], i.Cluster)
			if err := converge(ctx, 3*time.Minute, what, want, func() ([]string, error) {
				return Endpoints(ctx, i.XDS(), proxy, envoyCluster)
			}); err != nil {
				errs = append(errs, err.Error())
			}
		}
	}
	return joinErrs(errs)
}

// CheckRemoteWebhooks: a remote's injection webhooks call its primary, as
// the Mesh says: the Service of the mesh's revision's istiod in the remote
// (`istiod`, or `istiod-<revision>`) forwards to the primary's
// address (its east-west gateway's, or the istiod address the Mesh gives),
// on the path that names the remote's cluster and network.
func CheckRemoteWebhooks(f *Fleet, e *Expectations) error {
	var errs []string
	for _, c := range e.Mesh.Spec.Clusters {
		if c.Role != "remote" {
			continue
		}
		k := f.Clusters[c.Name].Kube
		var p *struct{ addr string }
		for _, pc := range e.Mesh.Spec.Clusters {
			if pc.Name == c.ControlPlane {
				a := ""
				switch {
				case pc.Istiod != nil && pc.Istiod.Address != "":
					a = pc.Istiod.Address
				case pc.EastWestGateway != nil:
					a = pc.EastWestGateway.Address
				}
				p = &struct{ addr string }{a}
			}
		}
		var whs struct {
			Items []struct {
				Object
				Webhooks []struct {
					Name         string `json:"name"`
					ClientConfig struct {
						URL     string `json:"url"`
						Service *struct {
							Name, Namespace, Path string
						} `json:"service"`
					} `json:"clientConfig"`
				} `json:"webhooks"`
			} `json:"items"`
		}
		if err := k.Get("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", &whs); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		wantPath := fmt.Sprintf("/inject/cluster/%s/net/%s", c.Name, c.Network)
		svcName := IstiodService(e.Revision())
		found := 0
		for _, w := range whs.Items {
			for _, h := range w.Webhooks {
				if !strings.Contains(h.Name, "sidecar-injector.istio.io") {
					continue
				}
				found++
				cc := h.ClientConfig
				if cc.Service == nil || cc.Service.Name != svcName || cc.Service.Namespace != "istio-system" || cc.Service.Path != wantPath {
					errs = append(errs, fmt.Sprintf("%s: webhook %s/%s: clientConfig %+v, want Service istio-system/%s path %s", c.Name, w.Metadata.Name, h.Name, cc, svcName, wantPath))
				}
			}
		}
		if found == 0 {
			errs = append(errs, c.Name+": no sidecar injection webhook")
		}
		if p == nil || p.addr == "" {
			continue // the primary's address is learned, not in the Mesh
		}
		ips, err := istiodAddresses(k, svcName)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", c.Name, err))
			continue
		}
		if !reflect.DeepEqual(ips, []string{p.addr}) {
			errs = append(errs, fmt.Sprintf("%s: %s's endpoints are %v, want its primary %s at %s", c.Name, svcName, ips, c.ControlPlane, p.addr))
		}
	}
	return joinErrs(errs)
}

// istiodAddresses are the addresses behind a remote's istiod Service: Istio's
// charts write them as an EndpointSlice (the pinned commit's charts) or as
// Endpoints (older releases' charts), so both are read.
func istiodAddresses(k *Kube, svcName string) ([]string, error) {
	var slices struct {
		Items []struct {
			Endpoints []struct {
				Addresses []string `json:"addresses"`
			} `json:"endpoints"`
		} `json:"items"`
	}
	if err := k.Get("/apis/discovery.k8s.io/v1/namespaces/istio-system/endpointslices?labelSelector="+url.QueryEscape("kubernetes.io/service-name="+svcName), &slices); err != nil {
		return nil, fmt.Errorf("%s's EndpointSlices: %v", svcName, err)
	}
	var ips []string
	for _, s := range slices.Items {
		for _, e := range s.Endpoints {
			ips = append(ips, e.Addresses...)
		}
	}
	if len(slices.Items) > 0 {
		return ips, nil
	}
	var eps struct {
		Subsets []struct {
			Addresses []struct {
				IP string `json:"ip"`
			} `json:"addresses"`
		} `json:"subsets"`
	}
	if err := k.Get("/api/v1/namespaces/istio-system/endpoints/"+svcName, &eps); err != nil {
		return nil, fmt.Errorf("%s has neither EndpointSlices nor Endpoints: %v", svcName, err)
	}
	for _, s := range eps.Subsets {
		for _, a := range s.Addresses {
			ips = append(ips, a.IP)
		}
	}
	return ips, nil
}

func joinErrs(errs []string) error {
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(errs, "\n"))
}
