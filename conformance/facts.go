package conformance

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8slabels "k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"

	"meshc.dev/meshc/mesh"
)

// Istio's topology label and annotation (pkg/config/constants, label.*).
const (
	networkLabel              = "topology.istio.io/network"
	controlPlaneClustersAnnot = "topology.istio.io/controlPlaneClusters"
)

// The east-west gateway's name and the ports the multicluster guides expose on
// it: status, cross-network mTLS, istiod xDS, istiod injection webhook.
const eastWestGateway = "istio-eastwestgateway"

var eastWestPorts = []int32{15021, 15443, 15012, 15017}

// checkPrimary checks a primary's generated control plane: istiod runs with
// the cluster's name, the mesh config carries the mesh ID and trust domain,
// sidecars it injects start with mesh ID, cluster and network, and istiod
// serves remotes exactly when the Mesh gives it some.
func (v *clusterCheck) checkPrimary(rel string, objs []*unstructured.Unstructured) {
	c, spec := v.cluster, v.mesh.Spec
	var istiod appsv1.Deployment
	var istiodEnv, sideEnv map[string]string
	if err := typed(objs, "Deployment", revisioned("istiod", spec.Istio.Revision), &istiod); err != nil {
		v.fail(rel, err)
	} else {
		env := containerEnv(istiod.Spec.Template.Spec, "discovery")
		istiodEnv = env
		v.expect(rel, "istiod env CLUSTER_ID", env["CLUSTER_ID"], c.Name)
		// The guides' values.global.externalIstiod: true, on exactly the
		// primaries that serve remotes.
		remotes := v.remotes()
		if got := env["EXTERNAL_ISTIOD"]; (got == "true") != (len(remotes) > 0) {
			v.failf(rel, "istiod env EXTERNAL_ISTIOD: got %q, want \"true\" exactly when it serves remotes (it serves %d: %v)",
				got, len(remotes), remotes)
		}
		// Remotes that reach istiod by DNS name call its webhook at that
		// name, so istiod's serving certificate must carry it.
		if host := c.IstiodHost(); len(remotes) > 0 && host != "" &&
			!slices.Contains(strings.Split(env["ISTIOD_CUSTOM_HOST"], ","), host) {
			v.failf(rel, "istiod env ISTIOD_CUSTOM_HOST: got %q, want it to name %s, the host its remotes call the injection webhook at",
				env["ISTIOD_CUSTOM_HOST"], host)
		}
	}

	mc, mcErr := meshConfig(objs, spec.Istio.Revision)
	if mcErr != nil {
		v.fail(rel, mcErr)
	} else {
		v.expect(rel, "mesh config defaultConfig.meshId", mc.GetDefaultConfig().GetMeshId(), spec.MeshID)
		v.expect(rel, "mesh config trustDomain", mc.GetTrustDomain(), spec.TrustDomain)
	}

	if env, err := sidecarEnv(objs, spec.Istio.Revision); err != nil {
		v.fail(rel, err)
	} else {
		sideEnv = env
		v.expect(rel, "injected sidecar env ISTIO_META_MESH_ID", env["ISTIO_META_MESH_ID"], spec.MeshID)
		v.expect(rel, "injected sidecar env ISTIO_META_CLUSTER_ID", env["ISTIO_META_CLUSTER_ID"], c.Name)
		v.expect(rel, "injected sidecar env ISTIO_META_NETWORK", env["ISTIO_META_NETWORK"], c.Network)
		v.expect(rel, "injected sidecar env TRUST_DOMAIN", env["TRUST_DOMAIN"], spec.TrustDomain)
	}
	if mcErr == nil && istiodEnv != nil {
		v.checkFederationMeshConfig(rel, mc, istiodEnv, sideEnv)
	}
}

// checkRemote checks a remote's generated install: no istiod of its own, and
// a sidecar injection webhook that reaches its primary's istiod, on the path
// that tells that istiod which cluster and network the pod is in.
func (v *clusterCheck) checkRemote(rel string, objs []*unstructured.Unstructured) {
	for _, o := range objs {
		if o.GetKind() == "Deployment" && strings.HasPrefix(o.GetName(), "istiod") {
			v.failf(rel, "remote runs its own control plane: Deployment %s", o.GetName())
		}
	}
	want, err := v.injectionURL()
	if err != nil {
		v.fail(rel, err)
		return
	}
	n := 0
	for _, o := range objs {
		if o.GetKind() != "MutatingWebhookConfiguration" {
			continue
		}
		var mwc admissionv1.MutatingWebhookConfiguration
		if err := fromUnstructured(o, &mwc); err != nil {
			v.fail(rel, err)
			continue
		}
		// The chart renders several webhooks with one clientConfig; report
		// each problem once, naming every webhook it affects.
		var problems []string
		affected := map[string][]string{}
		for _, wh := range mwc.Webhooks {
			n++
			urls, err := resolveWebhook(wh.ClientConfig, objs)
			if err != nil {
				p := err.Error()
				problems = appendNew(problems, p)
				affected[p] = append(affected[p], wh.Name)
				continue
			}
			for _, got := range urls {
				if got != want {
					p := fmt.Sprintf("resolve to %q, want %q", got, want)
					problems = appendNew(problems, p)
					affected[p] = append(affected[p], wh.Name)
				}
			}
		}
		for _, p := range problems {
			v.failf(rel, "MutatingWebhookConfiguration %s webhooks %s: %s", mwc.Name, strings.Join(affected[p], ", "), p)
		}
	}
	if n == 0 {
		v.failf(rel, "no sidecar injection webhook generated; pods in %s would get no sidecar", v.cluster.Name)
	}
}

// injectionURL is where the remote's API server must send sidecar injection
// requests: its primary's istiod webhook port, reached at the address the
// Mesh gives for the primary, on the path istiod reads cluster and network
// from.
func (v *clusterCheck) injectionURL() (string, error) {
	p := v.clusterNamed(v.cluster.ControlPlane)
	if p == nil {
		return "", fmt.Errorf("control plane %q is not a cluster of the mesh", v.cluster.ControlPlane)
	}
	addr := p.IstiodAddress()
	if addr == "" {
		return "", fmt.Errorf("primary %s has no address its remotes can reach istiod at", p.Name)
	}
	return "https://" + net.JoinHostPort(addr, "15017") +
		"/inject/cluster/" + v.cluster.Name + "/net/" + v.cluster.Network, nil
}

// resolveWebhook follows a webhook's clientConfig the way the API server
// does and returns the URLs it would call: the URL itself, or the Service's
// port mapped to its ExternalName or to each address of its EndpointSlices.
func resolveWebhook(cc admissionv1.WebhookClientConfig, objs []*unstructured.Unstructured) ([]string, error) {
	if cc.URL != nil {
		return []string{*cc.URL}, nil
	}
	ref := cc.Service
	if ref == nil {
		return nil, fmt.Errorf("clientConfig has neither url nor service")
	}
	port := int32(443)
	if ref.Port != nil {
		port = *ref.Port
	}
	path := ""
	if ref.Path != nil {
		path = *ref.Path
	}
	var svc corev1.Service
	if err := typedIn(objs, "Service", ref.Namespace, ref.Name, &svc); err != nil {
		return nil, fmt.Errorf("service %s/%s: %w", ref.Namespace, ref.Name, err)
	}
	i := slices.IndexFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Port == port })
	if i < 0 {
		return nil, fmt.Errorf("Service %s has no port %d", svc.Name, port)
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		// A DNS alias: the port is not remapped.
		return []string{"https://" + net.JoinHostPort(svc.Spec.ExternalName, strconv.Itoa(int(port))) + path}, nil
	}
	if len(svc.Spec.Selector) > 0 {
		return nil, fmt.Errorf("Service %s selects local pods %v", svc.Name, svc.Spec.Selector)
	}
	target := svc.Spec.Ports[i].TargetPort.IntVal
	if target == 0 {
		target = port
	}
	var urls []string
	for _, o := range objs {
		if o.GetKind() != "EndpointSlice" || o.GetNamespace() != svc.Namespace ||
			o.GetLabels()[discoveryv1.LabelServiceName] != svc.Name {
			continue
		}
		var es discoveryv1.EndpointSlice
		if err := fromUnstructured(o, &es); err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(es.Ports, func(p discoveryv1.EndpointPort) bool { return p.Port != nil && *p.Port == target }) {
			return nil, fmt.Errorf("EndpointSlice %s has no port %d (Service %s port %d's target)", es.Name, target, svc.Name, port)
		}
		for _, ep := range es.Endpoints {
			for _, a := range ep.Addresses {
				urls = append(urls, "https://"+net.JoinHostPort(a, strconv.Itoa(int(target)))+path)
			}
		}
	}
	if len(urls) == 0 {
		return nil, fmt.Errorf("Service %s has no endpoints", svc.Name)
	}
	return urls, nil
}

// checkEastWestGateway checks a generated east-west gateway: a load balancer
// Service on the network, exposing the guides' ports to gateway pods that
// route within their own network, and no second control plane.
func (v *clusterCheck) checkEastWestGateway(rel string, objs []*unstructured.Unstructured) {
	c := v.cluster
	var svc corev1.Service
	if err := typed(objs, "Service", eastWestGateway, &svc); err != nil {
		v.fail(rel, err)
		return
	}
	v.expect(rel, "Service "+svc.Name+" label "+networkLabel, svc.Labels[networkLabel], c.Network)
	v.expect(rel, "Service "+svc.Name+" type", string(svc.Spec.Type), string(corev1.ServiceTypeLoadBalancer))
	for _, want := range eastWestPorts {
		if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool {
			return p.Port == want && p.TargetPort.IntVal == want
		}) {
			v.failf(rel, "Service %s does not expose port %d (to target port %d)", svc.Name, want, want)
		}
	}

	var dep appsv1.Deployment
	if err := typed(objs, "Deployment", eastWestGateway, &dep); err != nil {
		v.fail(rel, err)
		return
	}
	pod := dep.Spec.Template
	if !k8slabels.SelectorFromSet(svc.Spec.Selector).Matches(k8slabels.Set(pod.Labels)) {
		v.failf(rel, "Service %s selector %v does not select the gateway pods %v", svc.Name, svc.Spec.Selector, pod.Labels)
	}
	v.expect(rel, "gateway pod label "+networkLabel, pod.Labels[networkLabel], c.Network)
	env := containerEnv(pod.Spec, "istio-proxy")
	v.expect(rel, "gateway env ISTIO_META_REQUESTED_NETWORK_VIEW", env["ISTIO_META_REQUESTED_NETWORK_VIEW"], c.Network)
	for _, o := range objs {
		if o.GetKind() == "Deployment" && strings.HasPrefix(o.GetName(), "istiod") {
			v.failf(rel, "the gateway install also installs a control plane: Deployment %s", o.GetName())
		}
	}
}

// checkManifest checks one object applied with kubectl against the cluster's
// installed objects: the namespace's topology metadata, remote secrets istiod
// can read, a reader role covering Istio's, Gateways that select installed
// gateway pods on ports their Service exposes, and VirtualService
// destinations that exist.
func (v *clusterCheck) checkManifest(rel string, obj runtime.Object) {
	c := v.cluster
	switch o := obj.(type) {
	case *corev1.Namespace:
		if o.Name != "istio-system" {
			return
		}
		if v.mesh.MultiNetwork() || v.mesh.Federated() {
			// istiod's default network for the cluster's workloads (a
			// federated mesh's peers are on networks of their own).
			v.expect(rel, "Namespace istio-system label "+networkLabel, o.Labels[networkLabel], c.Network)
		}
		if c.Role == mesh.RoleRemote {
			v.expect(rel, "Namespace istio-system annotation "+controlPlaneClustersAnnot, o.Annotations[controlPlaneClustersAnnot], c.ControlPlane)
		}
	case *corev1.Secret:
		if o.Labels[multiClusterLabel] != "" || strings.HasPrefix(rel, "remote-secrets/") {
			v.checkRemoteSecret(rel, o)
		}
	case *rbacv1.ClusterRole:
		if o.Labels["app"] == "istio-reader" {
			v.checkReaderRole(rel, o)
		}
	case *networkingv1.Gateway:
		if v.installFailed {
			return // what it selects is unknown; the install's finding says why
		}
		pods, svc := v.gatewayPods(o.Spec.GetSelector())
		if pods == "" {
			v.failf(rel, "Gateway %s selector %v selects no gateway installed in %s", o.Name, o.Spec.GetSelector(), c.Name)
			return
		}
		for _, s := range o.Spec.GetServers() {
			n := int32(s.GetPort().GetNumber())
			if svc == nil || !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.TargetPort.IntVal == n }) {
				v.failf(rel, "Gateway %s server port %d: no Service exposes it on the %s pods", o.Name, n, pods)
			}
		}
	case *networkingv1.VirtualService:
		if v.installFailed {
			return // its destinations are unknown; the install's finding says why
		}
		var dests []destination
		for _, r := range o.Spec.GetTls() {
			for _, d := range r.GetRoute() {
				dests = append(dests, destination{d.GetDestination().GetHost(), d.GetDestination().GetPort().GetNumber()})
			}
		}
		for _, r := range o.Spec.GetTcp() {
			for _, d := range r.GetRoute() {
				dests = append(dests, destination{d.GetDestination().GetHost(), d.GetDestination().GetPort().GetNumber()})
			}
		}
		for _, r := range o.Spec.GetHttp() {
			for _, d := range r.GetRoute() {
				dests = append(dests, destination{d.GetDestination().GetHost(), d.GetDestination().GetPort().GetNumber()})
			}
		}
		for _, d := range dests {
			if err := v.checkDestination(d); err != nil {
				v.failf(rel, "VirtualService %s: %v", o.Name, err)
			}
		}
	}
}

type destination struct {
	host string
	port uint32
}

// checkDestination requires an in-cluster destination host to be a Service
// the cluster's install creates, with the port routed to.
func (v *clusterCheck) checkDestination(d destination) error {
	name, rest, ok := strings.Cut(d.host, ".")
	ns, suffix, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || suffix != "svc.cluster.local" {
		return nil // not a Kubernetes Service of this cluster
	}
	var svc corev1.Service
	if err := typedIn(v.installed, "Service", ns, name, &svc); err != nil {
		return fmt.Errorf("destination %s: %w", d.host, err)
	}
	if d.port != 0 && !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return uint32(p.Port) == d.port }) {
		return fmt.Errorf("destination %s port %d: Service %s has no such port", d.host, d.port, svc.Name)
	}
	return nil
}

// gatewayPods finds the installed Deployment whose pods selector selects and
// the Service in front of them; pods names the Deployment, "" if none.
func (v *clusterCheck) gatewayPods(selector map[string]string) (pods string, svc *corev1.Service) {
	if len(selector) == 0 {
		return "", nil
	}
	sel := k8slabels.SelectorFromSet(selector)
	for _, installed := range [][]*unstructured.Unstructured{v.installed, v.served} {
		if pods, svc := selectedGateway(sel, installed); pods != "" {
			return pods, svc
		}
	}
	return "", nil
}

// selectedGateway is the first Deployment of one cluster's installed objects
// whose pods sel selects, and the Service in front of them.
func selectedGateway(sel k8slabels.Selector, installed []*unstructured.Unstructured) (pods string, svc *corev1.Service) {
	for _, o := range installed {
		if o.GetKind() != "Deployment" {
			continue
		}
		var dep appsv1.Deployment
		if fromUnstructured(o, &dep) != nil || !sel.Matches(k8slabels.Set(dep.Spec.Template.Labels)) {
			continue
		}
		for _, s := range installed {
			var cand corev1.Service
			if s.GetKind() != "Service" || s.GetNamespace() != dep.Namespace || fromUnstructured(s, &cand) != nil {
				continue
			}
			if len(cand.Spec.Selector) > 0 && k8slabels.SelectorFromSet(cand.Spec.Selector).Matches(k8slabels.Set(dep.Spec.Template.Labels)) {
				return dep.Name, &cand
			}
		}
		return dep.Name, nil
	}
	return "", nil
}

// remotes lists the remotes the Mesh has this cluster serve.
func (v *clusterCheck) remotes() []string {
	var names []string
	for _, r := range v.mesh.Remotes(v.cluster.Name) {
		names = append(names, r.Name)
	}
	return names
}

func (v *clusterCheck) clusterNamed(name string) *mesh.Cluster { return v.mesh.Cluster(name) }

// appendNew appends s to list unless it is already there.
func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

func (v *clusterCheck) expect(rel, what, got, want string) {
	if got != want {
		v.failf(rel, "%s: got %q, want %q", what, got, want)
	}
}

// containerEnv returns the literal env values of the named container.
func containerEnv(spec corev1.PodSpec, container string) map[string]string {
	env := map[string]string{}
	for _, c := range append(spec.InitContainers, spec.Containers...) {
		if c.Name != container {
			continue
		}
		for _, e := range c.Env {
			env[e.Name] = e.Value
		}
	}
	return env
}
