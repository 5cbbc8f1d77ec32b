package conformance

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	networking "istio.io/api/networking/v1alpha3"
	"istio.io/istio/pilot/pkg/config/kube/crd"
	"istio.io/istio/pkg/kube"

	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/render"
)

// installedWorld is what every cluster of m holds once the plan meshc
// rendered into dir has run, read from the rendered files: per cluster the
// istio-system namespace, the Services Istio's installer generates from its
// install files (the east-west gateway's with its load balancer address),
// its Istio config, and on primaries istiod's cluster ID, mesh config and
// remote secrets; plus the sample service. Problems reading it are returned
// as findings; what could be read is still returned.
func installedWorld(m *mesh.Mesh, dir string) (*Scenario, error) {
	s := &Scenario{Name: m.Metadata.Name}
	var f findings
	for i := range m.Spec.Clusters {
		r := &worldReader{mesh: m, dir: dir}
		c, proxies := r.cluster(i)
		s.Clusters = append(s.Clusters, c)
		s.Proxies = append(s.Proxies, proxies...)
		for _, x := range r.found {
			f.add(x.file, x.why, "")
		}
	}
	for i := range m.Spec.Clusters {
		if ip, err := netip.ParseAddr(gatewayAddress(&m.Spec.Clusters[i], i)); err == nil && ip.Is6() {
			s.DualStack = true
		}
	}
	vms, found := vmProxies(m, dir)
	s.Proxies = append(s.Proxies, vms...)
	for _, x := range found {
		f.add(x.file, x.why, "")
	}
	for _, p := range s.Proxies {
		if istiod := s.cluster(p.Istiod); p.Gateway && istiod != nil {
			p.ConfigFile = passthroughGatewayFile(istiod)
		}
	}
	return s, f.err()
}

// worldReader reads one cluster's part of the rendered output.
type worldReader struct {
	mesh  *mesh.Mesh
	dir   string
	found []finding
}

func (w *worldReader) fail(file string, err error) {
	w.found = append(w.found, finding{file: file, why: err.Error()})
}

// cluster reads the i-th cluster of the mesh and its sidecar.
func (w *worldReader) cluster(i int) (*ClusterState, []*Proxy) {
	c := &w.mesh.Spec.Clusters[i]
	cs := &ClusterState{Name: c.Name}
	proxy := &Proxy{Cluster: c.Name, Istiod: c.Name, Namespace: sampleNamespace, IP: samplePodIP(i, 0), Labels: sampleLabels}
	if !c.IsPrimary() {
		proxy.Istiod = c.ControlPlane
	}

	// istio-system and Istio config: everything in manifests/.
	manifests := path.Join(c.Name, render.ManifestsDir)
	names, err := yamlFiles(filepath.Join(w.dir, manifests))
	if err != nil {
		w.fail(manifests, err)
	}
	for _, name := range names {
		if name != render.KustomizationFile {
			w.manifest(cs, path.Join(manifests, name))
		}
	}

	// What the installer (istioctl, or Helm's charts) creates from the
	// install inputs: the control plane, and the east-west gateway. The
	// static checks' clusterCheck knows which files and how to render them.
	inst := &clusterCheck{mesh: w.mesh, cluster: *c, root: w.dir}
	idir, cpName, gwName, _, _ := inst.installFiles()
	cp := path.Join(c.Name, idir, cpName)
	cpObjs, err := inst.install(idir, cpName)
	if err != nil {
		w.fail(cp, err)
	}
	w.addServices(cs, cp, cpObjs, "")
	// Pods are injected by istiod (a remote's, by its primary's) called on
	// the path the cluster's webhook names: /inject/cluster/X/net/Y sets the
	// sidecar's cluster and network, over the injector's own values, and
	// labels the pod with network Y. A primary's own webhook calls /inject.
	proxy.MetadataFile = cp
	if c.IsPrimary() {
		w.istiod(cs, cp, cpObjs)
		if env, err := sidecarEnv(cpObjs, w.mesh.Spec.Istio.Revision); err == nil {
			proxy.ClusterID, proxy.Network = env["ISTIO_META_CLUSTER_ID"], env["ISTIO_META_NETWORK"]
			proxy.ProxyMetadata = env
		} else if cpObjs != nil {
			w.fail(cp, err)
		}
	}
	var podLabels map[string]string
	cs.NetworkFile = path.Join(manifests, render.NamespaceFile)
	if cluster, network, err := injectionTarget(cpObjs); err == nil {
		proxy.ClusterID = cmp.Or(cluster, proxy.ClusterID)
		proxy.Network = cmp.Or(network, proxy.Network)
		if network != "" {
			podLabels = map[string]string{networkLabel: network}
			cs.NetworkFile = cp
		}
	} else if cpObjs != nil {
		w.fail(cp, err)
	}
	proxies := []*Proxy{proxy}
	// An ambient mesh's east-west gateway is the Gateway API object of
	// manifests/, read above; istiod deploys it.
	if c.EastWestGateway != nil && !w.mesh.Ambient() {
		gw := path.Join(c.Name, idir, gwName)
		objs, err := inst.install(idir, gwName)
		if err != nil {
			w.fail(gw, err)
		}
		cs.GatewayFile = gw
		w.addServices(cs, gw, objs, loadBalancerAddress(c, i))
		if g := w.gatewayProxy(gw, objs, proxy); g != nil {
			g.IP = samplePodIP(i, 190)
			proxies = append(proxies, g)
		}
	}

	cs.PodLabels = podLabels
	cs.Objects = append(cs.Objects, sampleService(i, podLabels)...)
	return cs, proxies
}

// gatewayProxy is the east-west gateway's Envoy as the generated Deployment
// starts it: its pod labels, the network of its network label (which the
// injector copies into ISTIO_META_NETWORK), its requested network view, and
// the cluster ID the cluster's injector gives every proxy (as sidecar's).
func (w *worldReader) gatewayProxy(rel string, objs []*unstructured.Unstructured, sidecar *Proxy) *Proxy {
	var dep appsv1.Deployment
	if err := typed(objs, "Deployment", eastWestGateway, &dep); err != nil {
		if objs != nil {
			w.fail(rel, err)
		}
		return nil
	}
	pod := dep.Spec.Template
	env := containerEnv(pod.Spec, "istio-proxy")
	var view []string
	if v := env["ISTIO_META_REQUESTED_NETWORK_VIEW"]; v != "" {
		view = strings.Split(v, ",")
	}
	return &Proxy{
		Gateway: true, Cluster: sidecar.Cluster, Istiod: sidecar.Istiod,
		Namespace: dep.Namespace, Labels: pod.Labels,
		ClusterID: sidecar.ClusterID, Network: pod.Labels[networkLabel], NetworkView: view,
		MetadataFile: rel, ClusterIDFile: sidecar.MetadataFile,
	}
}

// passthroughGatewayFile names the file of the istiod's Istio config that
// opens 15443 on east-west gateways (the cross-network Gateway), or its
// manifests directory if none does.
func passthroughGatewayFile(istiod *ClusterState) string {
	for _, o := range istiod.Objects {
		if o.Config == nil {
			continue
		}
		gw, ok := o.Config.Spec.(*networking.Gateway)
		if !ok {
			continue
		}
		for _, srv := range gw.GetServers() {
			if srv.GetPort().GetNumber() == 15443 {
				return o.File
			}
		}
	}
	return path.Join(istiod.Name, render.ManifestsDir)
}

// manifest adds the objects of a file kubectl applies: Kubernetes objects
// as the API server holds them, Istio config as istiod parses it.
func (w *worldReader) manifest(cs *ClusterState, rel string) {
	objs, err := Decode(filepath.Join(w.dir, rel))
	if err != nil {
		w.fail(rel, err)
	}
	for _, o := range objs {
		gk := o.GetObjectKind().GroupVersionKind()
		if strings.HasPrefix(gk.Group, "networking.istio.io") {
			continue // below, through Istio's own parser
		}
		if gk.Group == gatewayAPIGroup && !w.installsGatewayAPI(cs.Name, rel) {
			// No CRD, no object: kubectl refuses the kind, and istiod never
			// sees it.
			name := ""
			if mo, ok := o.(metav1.Object); ok {
				name = " " + mo.GetName()
			}
			w.fail(rel, fmt.Errorf("kubectl refuses %s%s: no step of %s installs the Gateway API CRDs in %s before it applies this file", gk.Kind, name, render.PlanScript, cs.Name))
			continue
		}
		if gk.Group == gatewayAPIGroup {
			cs.ServesGatewayAPI = true
		}
		cs.Objects = append(cs.Objects, Object{Object: o, File: rel})
	}
	data, err := os.ReadFile(filepath.Join(w.dir, rel))
	if err != nil {
		w.fail(rel, err)
		return
	}
	configs, _, err := crd.ParseInputs(string(data))
	if err != nil {
		w.fail(rel, err)
	}
	for i := range configs {
		cs.Objects = append(cs.Objects, Object{Config: &configs[i], File: rel})
	}
}

// gatewayAPIGroup is the API group of the Gateway API, whose CRDs neither
// Kubernetes nor Istio's installers put in a cluster.
const gatewayAPIGroup = "gateway.networking.k8s.io"

// installsGatewayAPI reports whether plan.sh, before the step that applies
// the file rel (alone, or its directory with -k), has a step for cluster
// that installs or checks the Gateway API CRDs: a command naming the
// cluster's context and the Gateway API (its group, or its release's
// gateway-api).
func (w *worldReader) installsGatewayAPI(cluster, rel string) bool {
	data, err := os.ReadFile(filepath.Join(w.dir, render.PlanScript))
	if err != nil {
		return false
	}
	ctx := w.mesh.Cluster(cluster).Context
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, "#") || strings.HasPrefix(line, "echo ") {
			continue
		}
		if slices.Contains(strings.Fields(line), rel) || slices.Contains(strings.Fields(line), path.Dir(rel)) {
			return false
		}
		if strings.Contains(line, ctx) && (strings.Contains(line, gatewayAPIGroup) || strings.Contains(line, "gateway-api")) {
			return true
		}
	}
	return false
}

// addServices adds the Services an install generates; LoadBalancer ones get
// lb as their load balancer's address, as the cloud would give it.
func (w *worldReader) addServices(cs *ClusterState, rel string, objs []*unstructured.Unstructured, lb string) {
	for _, o := range objs {
		if o.GetKind() != "Service" {
			continue
		}
		svc := &corev1.Service{}
		if err := fromUnstructured(o, svc); err != nil {
			w.fail(rel, err)
			continue
		}
		if svc.Spec.Type == corev1.ServiceTypeLoadBalancer && lb != "" {
			ing := corev1.LoadBalancerIngress{IP: lb}
			if net.ParseIP(lb) == nil {
				ing = corev1.LoadBalancerIngress{Hostname: lb}
			}
			svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{ing}
		}
		cs.Objects = append(cs.Objects, Object{Object: svc, File: rel})
	}
}

// istiod reads a primary's control plane: the cluster ID istiod runs with,
// its mesh config, and the remote secrets it acts on.
func (w *worldReader) istiod(cs *ClusterState, rel string, objs []*unstructured.Unstructured) {
	d := &Istiod{ClusterIDFile: rel}
	cs.Istiod = d
	var dep appsv1.Deployment
	if err := typed(objs, "Deployment", revisioned("istiod", w.mesh.Spec.Istio.Revision), &dep); err == nil {
		d.Env = containerEnv(dep.Spec.Template.Spec, "discovery")
		d.ClusterID = d.Env["CLUSTER_ID"]
	} else if objs != nil {
		w.fail(rel, err)
	}
	if mc, err := meshConfig(objs, w.mesh.Spec.Istio.Revision); err == nil {
		d.MeshConfig = mc
	} else if objs != nil {
		w.fail(rel, err)
	}
	if w.mesh.Declarative() {
		w.secretFiles(cs)
	} else {
		w.planSecrets(cs)
	}
}

// secretFiles reads the declarative remote secrets of a primary, filled in
// as their comments say: each source cluster's API server and reader
// credentials.
func (w *worldReader) secretFiles(cs *ClusterState) {
	dir := path.Join(cs.Name, render.RemoteSecretsDir)
	cs.Istiod.ReadsFrom = dir
	names, err := yamlFiles(filepath.Join(w.dir, dir))
	if err != nil && !os.IsNotExist(err) {
		w.fail(dir, err)
	}
	for _, name := range names {
		rel := path.Join(dir, name)
		objs, err := Decode(filepath.Join(w.dir, rel))
		if err != nil {
			w.fail(rel, err)
		}
		for _, o := range objs {
			s, ok := o.(*corev1.Secret)
			if !ok || s.Labels[multiClusterLabel] != "true" {
				continue // istiod's secret controller ignores it
			}
			data := map[string]string{}
			for k, b := range s.Data {
				data[k] = string(b)
			}
			for k, v := range s.StringData {
				data[k] = v
			}
			for _, id := range sortedKeys(data) {
				source, err := w.apiServerOf(w.fillPlaceholders(data[id]))
				if err != nil {
					w.fail(rel, fmt.Errorf("Secret %s: key %s: %w", s.Name, id, err))
					continue
				}
				cs.Istiod.Reads = append(cs.Istiod.Reads, RemoteRead{ClusterID: id, Source: source, File: rel})
			}
		}
	}
}

// fillPlaceholders replaces a declarative secret's ${MESHC_<CLUSTER>_...}
// placeholders with the named cluster's API server and sample credentials.
func (w *worldReader) fillPlaceholders(kubeconfig string) string {
	return os.Expand(kubeconfig, func(p string) string {
		for i := range w.mesh.Spec.Clusters {
			c := &w.mesh.Spec.Clusters[i]
			prefix := "MESHC_" + strings.ToUpper(strings.ReplaceAll(c.Name, "-", "_")) + "_"
			switch p {
			case prefix + "API_SERVER":
				return apiServer(c)
			case prefix + "CA_DATA":
				return base64.StdEncoding.EncodeToString(sampleCA)
			case prefix + "TOKEN":
				return sampleToken
			}
		}
		return "${" + p + "}"
	})
}

// apiServer is the URL other clusters reach c's API server at: the Mesh's,
// else one the harness gives it.
func apiServer(c *mesh.Cluster) string {
	if c.APIServer != "" {
		return c.APIServer
	}
	return "https://api." + c.Name + ".example:6443"
}

// apiServerOf returns the cluster whose API server a kubeconfig reaches,
// loading it with istiod's own loader.
func (w *worldReader) apiServerOf(kubeconfig string) (string, error) {
	rc, err := kube.NewUntrustedRestConfig([]byte(kubeconfig))
	if err != nil {
		return "", fmt.Errorf("istiod rejects the kubeconfig: %w", err)
	}
	for i := range w.mesh.Spec.Clusters {
		if c := &w.mesh.Spec.Clusters[i]; apiServer(c) == rc.Host {
			return c.Name, nil
		}
	}
	return "", fmt.Errorf("kubeconfig server %s is no cluster's API server", rc.Host)
}

// planSecrets reads the `istioctl create-remote-secret --context=S
// --name=ID | kubectl apply -f - --context=R` steps of plan.sh that apply to
// the primary: each makes R's istiod read S's API server as cluster ID.
func (w *worldReader) planSecrets(cs *ClusterState) {
	rel := render.PlanScript
	cs.Istiod.ReadsFrom = rel
	data, err := os.ReadFile(filepath.Join(w.dir, rel))
	if err != nil {
		w.fail(rel, err)
		return
	}
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "istioctl create-remote-secret ") {
			continue
		}
		create, apply, ok := strings.Cut(line, " | ")
		source, id := flag(create, "--context"), flag(create, "--name")
		reader := flag(apply, "--context")
		if !ok || source == "" || id == "" || reader == "" {
			w.fail(rel, fmt.Errorf("cannot read remote secret step %q", line))
			continue
		}
		if w.byContext(reader) != cs.Name {
			continue
		}
		src := w.byContext(source)
		if src == "" {
			w.fail(rel, fmt.Errorf("remote secret step %q: context %s is no cluster's", line, source))
			continue
		}
		cs.Istiod.Reads = append(cs.Istiod.Reads, RemoteRead{ClusterID: id, Source: src, File: rel})
	}
}

// flag returns the value of --name=value in a command line of plain words.
func flag(cmd, name string) string {
	for _, f := range strings.Fields(cmd) {
		if v, ok := strings.CutPrefix(f, name+"="); ok {
			return strings.Trim(v, "'")
		}
	}
	return ""
}

func (w *worldReader) byContext(ctx string) string {
	for _, c := range w.mesh.Spec.Clusters {
		if c.Context == ctx {
			return c.Name
		}
	}
	return ""
}

// injectionTarget returns the cluster and network a cluster's injection
// webhook tells istiod in its path (/inject/cluster/X/net/Y); both are ""
// on the plain /inject path of a primary's own webhook.
func injectionTarget(objs []*unstructured.Unstructured) (cluster, network string, err error) {
	for _, o := range objs {
		if o.GetKind() != "MutatingWebhookConfiguration" {
			continue
		}
		var mwc admissionv1.MutatingWebhookConfiguration
		if err := fromUnstructured(o, &mwc); err != nil {
			return "", "", err
		}
		for _, wh := range mwc.Webhooks {
			var p string
			switch cc := wh.ClientConfig; {
			case cc.URL != nil:
				u, err := url.Parse(*cc.URL)
				if err != nil {
					return "", "", err
				}
				p = u.Path
			case cc.Service != nil && cc.Service.Path != nil:
				p = *cc.Service.Path
			}
			parts := strings.Split(strings.Trim(p, "/"), "/")
			for i := 0; i+1 < len(parts); i++ {
				switch parts[i] {
				case "cluster":
					cluster = parts[i+1]
				case "net":
					network = parts[i+1]
				}
			}
			return cluster, network, nil
		}
	}
	return "", "", fmt.Errorf("no sidecar injection webhook to read the pods' cluster and network from")
}
