package conformance

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8slabels "k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	revtag "istio.io/istio/istioctl/pkg/tag"
	"istio.io/istio/operator/pkg/manifest"
	"istio.io/istio/operator/pkg/render"
	"istio.io/istio/operator/pkg/webhook"
	"istio.io/istio/pkg/kube"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
	meshrender "meshc.dev/meshc/render"
)

// The ports a remote's API server and sidecars reach istiod at through the
// east-west gateway (expose-istiod.yaml): the webhook and xDS.
const (
	webhookPort = 15017
	xdsPort     = 15012
)

// placed is an object in a cluster with the rendered file it comes from,
// relative to VerifyCanary's root (old/… or new/…).
type placed struct {
	obj  *unstructured.Unstructured
	file string
}

// canarySide is one Mesh's rendered output, read per cluster.
type canarySide struct {
	m     *mesh.Mesh
	dir   string
	label string // "old" or "new": findings name files under it
	// installs are the control plane's objects: what istioctl install or
	// Helm's istiod chart creates; routes are expose-istiod.yaml's, tags
	// revision-tags.yaml's, namespaces shared-namespaces.yaml's.
	installs, routes, tags, namespaces map[string][]placed
}

// canaryStep is what every cluster holds at one step of a canary upgrade:
// which installs ran, which tags are applied, and which Mesh's tags they
// are (so which revision each tag must point at).
type canaryStep struct {
	name     string
	tagsMesh *mesh.Mesh
	clusters map[string][]placed
	nsFiles  map[string][]placed
}

// VerifyCanary checks a canary upgrade from the Mesh old (rendered into
// oldDir) to new (rendered into newDir), a Mesh of the same clusters that
// installs another revision and points the tags at it (or, with
// spec.istio.previous keeping old's revision, some of them). Installs of
// the same objects (old's revision kept as new's previous) are applied
// over each other, as a reinstall would. It builds, per
// cluster, what each step leaves in the API server: the old revision alone;
// the new revision installed beside it, tags unmoved; the tags moved (the new
// revision-tags.yaml applied over the old). At each step, for every shared
// namespace it finds the injection webhooks that select a pod there (label
// selectors as the API server evaluates them), follows the one it finds to
// the istiod it calls (a primary's Service and Deployment; a remote's Service,
// EndpointSlice, its primary's east-west gateway and the istiod route by TLS
// server name), injects the pod with Istio's own webhook handler for that
// istiod's revision on the webhook's path, and follows the injected proxy's
// discovery address to the istiod that serves it. Each must be the revision
// the namespace's tag points at in the Mesh of the step's tags.
//
// Findings name the files under old/ and new/.
func VerifyCanary(oldMesh, newMesh *mesh.Mesh, oldDir, newDir string) error {
	var errs diag.Problems
	fail := func(file, format string, a ...any) {
		errs = append(errs, problemAt(CheckCanary, file, fmt.Sprintf(format, a...)))
	}
	if oldMesh.Spec.Istio.Revision == "" || newMesh.Spec.Istio.Revision == "" || oldMesh.Spec.Istio.Revision == newMesh.Spec.Istio.Revision {
		fail("", "a canary needs two named revisions, got %q and %q", oldMesh.Spec.Istio.Revision, newMesh.Spec.Istio.Revision)
		return errs.Err()
	}
	oldSide := readSide(oldMesh, oldDir, "old", nil, fail)
	newSide := readSide(newMesh, newDir, "new", oldSide, fail)

	both := func(a, b map[string][]placed) map[string][]placed {
		out := map[string][]placed{}
		for c := range a {
			out[c] = applyOver(a[c], b[c])
		}
		for c := range b {
			if _, ok := out[c]; !ok {
				out[c] = b[c]
			}
		}
		return out
	}
	union := func(parts ...map[string][]placed) map[string][]placed {
		out := map[string][]placed{}
		for _, p := range parts {
			for c, objs := range p {
				out[c] = append(out[c], objs...)
			}
		}
		return out
	}
	steps := []canaryStep{
		{name: "before the upgrade", tagsMesh: oldMesh, nsFiles: oldSide.namespaces,
			clusters: union(oldSide.installs, oldSide.routes, oldSide.tags)},
		{name: "with the new revision installed beside the old, tags unmoved", tagsMesh: oldMesh, nsFiles: oldSide.namespaces,
			clusters: union(both(oldSide.installs, newSide.installs), both(oldSide.routes, newSide.routes), oldSide.tags)},
		{name: "with the tags moved", tagsMesh: newMesh, nsFiles: newSide.namespaces,
			clusters: union(both(oldSide.installs, newSide.installs), both(oldSide.routes, newSide.routes), both(oldSide.tags, newSide.tags))},
	}
	// The change plan's own tag moves (istioctl's default tag, which no
	// rendered file holds), run with Istio's tag code over what the
	// clusters hold once the tags moved.
	moved := &steps[len(steps)-1]
	for c, revs := range planTagMoves(oldMesh, newMesh) {
		for _, rev := range revs {
			objs, err := istioctlTagSet(moved.clusters[c], "default", rev)
			if err != nil {
				fail("new/plan.sh", "istioctl tag set default --revision %s in %s: %v", rev, c, err)
				continue
			}
			moved.clusters[c] = applyOver(moved.clusters[c], placedIn(objs, "new/plan.sh (istioctl tag set default)"))
		}
	}
	for _, s := range steps {
		for _, c := range newMesh.Spec.Clusters {
			checkCanaryCluster(&s, &c, fail)
		}
	}
	return errs.Err()
}

// readSide reads one Mesh's output. istioctl's install also applies, out of
// band of its manifests, the webhooks its installer decides on
// (operator/pkg/webhook.WebhooksToDeploy) against what the cluster already
// holds: before (the earlier side's installs), if any.
func readSide(m *mesh.Mesh, dir, label string, before *canarySide, fail func(string, string, ...any)) *canarySide {
	s := &canarySide{m: m, dir: dir, label: label, installs: map[string][]placed{}, routes: map[string][]placed{},
		tags: map[string][]placed{}, namespaces: map[string][]placed{}}
	for _, c := range m.Spec.Clusters {
		inst := &clusterCheck{mesh: m, cluster: c, root: dir}
		idir, cp, _, _, _ := inst.installFiles()
		var held []*unstructured.Unstructured
		if before != nil {
			for _, p := range before.installs[c.Name] {
				held = append(held, p.obj)
			}
		}
		for _, name := range []string{cp, inst.previousFile()} {
			if name == "" {
				continue
			}
			rel := path.Join(label, c.Name, idir, name)
			objs, err := inst.install(idir, name)
			if err != nil {
				fail(rel, "%v", err)
			}
			s.installs[c.Name] = append(s.installs[c.Name], placedIn(objs, rel)...)
			held = append(held, objs...)
			if !m.UsesHelm() {
				extra, err := istioctlWebhooks(filepath.Join(dir, c.Name, idir, name), held)
				if err != nil {
					fail(rel, "istioctl install's webhooks: %v", err)
				}
				s.installs[c.Name] = append(s.installs[c.Name], placedIn(extra, rel+" (istioctl install, out of band)")...)
				held = append(held, extra...)
			}
		}
		for f, into := range map[string]map[string][]placed{"expose-istiod.yaml": s.routes,
			meshrender.RevisionTagsFile: s.tags, "shared-namespaces.yaml": s.namespaces} {
			rel := path.Join(c.Name, meshrender.ManifestsDir, f)
			data, err := os.ReadFile(filepath.Join(dir, rel))
			if os.IsNotExist(err) {
				continue
			}
			objs, err := decodeObjects(data)
			if err != nil {
				fail(path.Join(label, rel), "%v", err)
			}
			into[c.Name] = placedIn(objs, path.Join(label, rel))
		}
	}
	return s
}

func placedIn(objs []*unstructured.Unstructured, file string) []placed {
	out := make([]placed, len(objs))
	for i, o := range objs {
		out[i] = placed{o, file}
	}
	return out
}

// applyOver is kubectl apply of newer over held: an object of the same
// kind, namespace and name is replaced, others added.
func applyOver(held, newer []placed) []placed {
	out := slices.Clone(held)
	for _, n := range newer {
		i := slices.IndexFunc(out, func(p placed) bool {
			return p.obj.GetKind() == n.obj.GetKind() && p.obj.GetNamespace() == n.obj.GetNamespace() && p.obj.GetName() == n.obj.GetName()
		})
		if i >= 0 {
			out[i] = n
		} else {
			out = append(out, n)
		}
	}
	return out
}

// istioctlWebhooks are the webhooks `istioctl install -f path` applies
// besides its manifests in a cluster that holds held: Istio's installer
// decides with WebhooksToDeploy (a "default" revision tag when the cluster
// has none yet), given a client that answers with the cluster's webhooks.
func istioctlWebhooks(path string, held []*unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	_, vals, err := render.GenerateManifest([]string{path}, nil, false, nil, nil)
	if err != nil {
		return nil, err
	}
	var objs []runtime.Object
	for _, o := range held {
		if o.GetKind() == "MutatingWebhookConfiguration" {
			var mwc admissionv1.MutatingWebhookConfiguration
			if err := fromUnstructured(o, &mwc); err != nil {
				return nil, err
			}
			objs = append(objs, &mwc)
		}
	}
	mfs, err := webhook.WebhooksToDeploy(vals, kube.NewFakeClient(objs...), nil, true)
	if err != nil {
		return nil, err
	}
	out := make([]*unstructured.Unstructured, len(mfs))
	for i, m := range mfs {
		out[i] = m.Unstructured
	}
	return out, nil
}

// checkCanaryCluster checks every shared namespace of cluster c at step s,
// and a namespace labelled with a name that is no tag.
func checkCanaryCluster(s *canaryStep, c *mesh.Cluster, fail func(string, string, ...any)) {
	objs := s.clusters[c.Name]
	var namespaces []placed
	for _, p := range s.nsFiles[c.Name] {
		if p.obj.GetKind() == "Namespace" {
			namespaces = append(namespaces, p)
		}
	}
	stray := &unstructured.Unstructured{}
	stray.SetKind("Namespace")
	stray.SetName("meshc-untagged")
	stray.SetLabels(map[string]string{revLabel: "no-such-tag"})
	namespaces = append(namespaces, placed{stray, ""})
	for _, ns := range namespaces {
		want, injected := wantRevision(s.tagsMesh, ns.obj)
		selected := selectingWebhooks(objs, ns.obj.GetName(), ns.obj.GetLabels(), samplePodLabels())
		at := func(format string, a ...any) string {
			return fmt.Sprintf("%s, in %s, namespace %s (labels %v): ", s.name, c.Name, ns.obj.GetName(), ns.obj.GetLabels()) + fmt.Sprintf(format, a...)
		}
		switch {
		case !injected && len(selected) > 0:
			fail(selected[0].file, "%s", at("no tag of the Mesh selects it, but webhook %s does", selected[0].name))
			continue
		case !injected:
			continue
		case len(selected) == 0:
			fail(ns.file, "%s", at("no injection webhook selects its pods: they start without sidecars, want revision %s", want))
			continue
		case len(selected) > 1:
			var names []string
			for _, w := range selected {
				names = append(names, w.name+" ("+w.file+")")
			}
			fail(selected[0].file, "%s", at("%d injection webhooks select its pods: %s", len(selected), strings.Join(names, ", ")))
			continue
		}
		wh := selected[0]
		hook, err := reachIstiod(s, c, objs, wh.config, webhookPort)
		if err != nil {
			fail(wh.file, "%s", at("webhook %s: %v", wh.name, err))
			continue
		}
		if hook.revision != want {
			fail(wh.file, "%s", at("webhook %s calls revision %s (%s), want %s, the revision tag %s points at", wh.name, hook.revision, hook.via, want, ns.obj.GetLabels()[revLabel]))
			continue
		}
		// A remote's webhook names the pod's cluster and network in its
		// path (its primary's istiod injects for it); a primary's is /inject.
		wantPath := "/inject"
		if !c.IsPrimary() {
			wantPath = "/inject/cluster/" + c.Name + "/net/" + c.Network
		}
		if hook.path != wantPath {
			fail(wh.file, "%s", at("webhook %s calls path %s, want %s", wh.name, hook.path, wantPath))
		}
		proxy, err := injectWith(hook, ns.obj.GetName())
		if err != nil {
			fail(hook.file, "%s", at("injecting a pod with revision %s's webhook on %s: %v", hook.revision, hook.path, err))
			continue
		}
		wantAddr := revisioned("istiod", want) + ".istio-system.svc:" + strconv.Itoa(xdsPort)
		for _, f := range [][3]string{
			{"istio.io/rev annotation", proxy.revision, want},
			{"discoveryAddress", proxy.discoveryAddress, wantAddr},
			{"ISTIO_META_CLUSTER_ID", proxy.env["ISTIO_META_CLUSTER_ID"], c.Name},
			{"ISTIO_META_NETWORK", proxy.env["ISTIO_META_NETWORK"], c.Network},
		} {
			if f[1] != f[2] {
				fail(hook.file, "%s", at("the injected proxy's %s: got %q, want %q", f[0], f[1], f[2]))
			}
		}
		host, port, err := net.SplitHostPort(proxy.discoveryAddress)
		if err != nil {
			fail(hook.file, "%s", at("discoveryAddress %q: %v", proxy.discoveryAddress, err))
			continue
		}
		name, ns2, _ := strings.Cut(strings.TrimSuffix(host, ".svc"), ".")
		p, _ := strconv.Atoi(port)
		svcRef := &admissionv1.ServiceReference{Name: name, Namespace: ns2, Port: ptrTo(int32(p))}
		xds, err := reachIstiod(s, c, objs, admissionv1.WebhookClientConfig{Service: svcRef}, xdsPort)
		if err != nil {
			fail(hook.file, "%s", at("the injected proxy dials %s: %v", proxy.discoveryAddress, err))
		} else if xds.revision != want {
			fail(xds.routeFile, "%s", at("the injected proxy dials %s and is served by revision %s (%s), want %s", proxy.discoveryAddress, xds.revision, xds.via, want))
		}
	}
}

func ptrTo[T any](v T) *T { return &v }

// samplePodLabels are a plain workload's: no injection or revision label.
func samplePodLabels() map[string]string { return map[string]string{"app": "sample"} }

// wantRevision is the revision the Mesh says injects namespace ns (by its
// name, from the Mesh's namespaces, or from its label when the Mesh does
// not name it): the revision its tag points at. injected is false where the
// Mesh injects no sidecars (istioInjection: disabled, a label no tag has).
// A namespace injected without a tag (istio-injection=enabled) is promised
// a sidecar from the Mesh's revision.
func wantRevision(m *mesh.Mesh, ns *unstructured.Unstructured) (rev string, injected bool) {
	v, ok := ns.GetLabels()[revLabel]
	if ok {
		if t := m.Tag(v); t != nil {
			return t.Revision, true
		}
		return "", false
	}
	if ns.GetLabels()["istio-injection"] == "enabled" {
		return m.Spec.Istio.Revision, true
	}
	return "", false
}

// selectedWebhook is one webhook of a MutatingWebhookConfiguration.
type selectedWebhook struct {
	name, file string
	config     admissionv1.WebhookClientConfig
}

// selectingWebhooks are the injection webhooks of objs that the API server
// calls for a pod with podLabels created in namespace ns with nsLabels: the
// rules match pod CREATE, and both selectors match, as Kubernetes evaluates
// them (a nil selector matches everything). The API server gives every
// namespace its kubernetes.io/metadata.name label.
func selectingWebhooks(objs []placed, ns string, nsLabels, podLabels map[string]string) []selectedWebhook {
	nsl := maps.Clone(nsLabels)
	if nsl == nil {
		nsl = map[string]string{}
	}
	nsl["kubernetes.io/metadata.name"] = ns
	var out []selectedWebhook
	for _, p := range objs {
		if p.obj.GetKind() != "MutatingWebhookConfiguration" {
			continue
		}
		var mwc admissionv1.MutatingWebhookConfiguration
		if fromUnstructured(p.obj, &mwc) != nil {
			continue
		}
		for _, wh := range mwc.Webhooks {
			if podCreate(wh.Rules) && matches(wh.NamespaceSelector, nsl) && matches(wh.ObjectSelector, podLabels) {
				out = append(out, selectedWebhook{name: mwc.Name + "/" + wh.Name, file: p.file, config: wh.ClientConfig})
			}
		}
	}
	return out
}

func matches(sel *metav1.LabelSelector, l map[string]string) bool {
	if sel == nil {
		return true
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && s.Matches(k8slabels.Set(l))
}

// podCreate reports whether rules cover creating core/v1 pods.
func podCreate(rules []admissionv1.RuleWithOperations) bool {
	has := func(list []string, v string) bool { return slices.Contains(list, v) || slices.Contains(list, "*") }
	for _, r := range rules {
		ops := make([]string, len(r.Operations))
		for i, o := range r.Operations {
			ops[i] = string(o)
		}
		if has(ops, "CREATE") && has(r.APIGroups, "") && has(r.APIVersions, "v1") && has(r.Resources, "pods") {
			return true
		}
	}
	return false
}

// reachedIstiod is the istiod a client config leads to, with how.
type reachedIstiod struct {
	revision  string
	via       string // the hops, for findings
	path      string // the request path (a webhook's)
	file      string // the install of the istiod reached
	routeFile string // the file whose route or Service chose it
	objs      []placed
	dep       *appsv1.Deployment
	cluster   string
}

// reachIstiod follows cc from cluster c as its API server (webhooks) or a
// sidecar (xDS) would: a Service with a selector reaches the istiod pods of
// c it selects; one without (a remote's istiod Service), its EndpointSlices'
// addresses, which must be the address the Mesh gives a primary's istiod,
// whose east-west gateway routes by the TLS server name (the Service's DNS
// name) to an istiod Service there; an ExternalName Service, that name. A
// URL is dialled at its host, which is also the server name.
func reachIstiod(s *canaryStep, c *mesh.Cluster, objs []placed, cc admissionv1.WebhookClientConfig, port int) (*reachedIstiod, error) {
	var sni, reqPath, addr, file string
	switch {
	case cc.URL != nil:
		u, err := url.Parse(*cc.URL)
		if err != nil {
			return nil, err
		}
		sni, addr, reqPath = u.Hostname(), u.Hostname(), u.Path
	case cc.Service != nil:
		ref := cc.Service
		reqPath = cmp.Or(ptrValue(ref.Path), "/")
		svc, f, err := serviceIn(objs, ref.Namespace, ref.Name)
		if err != nil {
			return nil, err
		}
		file = f
		if len(svc.Spec.Selector) > 0 {
			r, err := podsOf(objs, svc, c.Name)
			if err != nil {
				return nil, err
			}
			r.path, r.routeFile = reqPath, f
			return r, nil
		}
		sni = svc.Name + "." + svc.Namespace + ".svc"
		if svc.Spec.Type == corev1.ServiceTypeExternalName {
			addr = svc.Spec.ExternalName // a DNS alias: the client still names the Service
			break
		}
		addrs, err := endpointAddresses(objs, svc, ptrValueOr(ref.Port, 443))
		if err != nil {
			return nil, err
		}
		if len(addrs) != 1 {
			return nil, fmt.Errorf("Service %s has endpoints %v, want the one address of its primary's istiod", svc.Name, addrs)
		}
		addr = addrs[0]
	default:
		return nil, fmt.Errorf("clientConfig has neither url nor service")
	}
	// Across the east-west gateway of the primary the address is.
	var primary *mesh.Cluster
	for i := range s.tagsMesh.Spec.Clusters {
		if p := &s.tagsMesh.Spec.Clusters[i]; p.IsPrimary() && p.IstiodAddress() == addr {
			primary = p
		}
	}
	if primary == nil {
		return nil, fmt.Errorf("%s is no primary's istiod address in the Mesh", addr)
	}
	dest, routeFile, err := sniRoute(s.clusters[primary.Name], port, sni)
	if err != nil {
		return nil, fmt.Errorf("at %s's east-west gateway (%s:%d, server name %s): %w", primary.Name, addr, port, sni, err)
	}
	name, rest, _ := strings.Cut(dest, ".")
	ns, _, _ := strings.Cut(rest, ".")
	pobjs := s.clusters[primary.Name]
	svc, _, err := serviceIn(pobjs, ns, name)
	if err != nil {
		return nil, fmt.Errorf("%s routes server name %s to %s: %w", routeFile, sni, dest, err)
	}
	r, err := podsOf(pobjs, svc, primary.Name)
	if err != nil {
		return nil, err
	}
	r.via = fmt.Sprintf("%s → %s:%d → %s by server name %s → %s", cmp.Or(file, "url"), addr, port, routeFile, sni, r.via)
	r.path, r.routeFile = reqPath, routeFile
	return r, nil
}

func ptrValue(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func ptrValueOr(p *int32, d int32) int32 {
	if p == nil {
		return d
	}
	return *p
}

// serviceIn finds a Service of objs.
func serviceIn(objs []placed, ns, name string) (*corev1.Service, string, error) {
	for _, p := range objs {
		if p.obj.GetKind() == "Service" && p.obj.GetName() == name && p.obj.GetNamespace() == ns {
			var svc corev1.Service
			if err := fromUnstructured(p.obj, &svc); err != nil {
				return nil, "", err
			}
			return &svc, p.file, nil
		}
	}
	return nil, "", fmt.Errorf("no Service %s/%s", ns, name)
}

// podsOf is the istiod Deployment whose pods svc selects: exactly one.
func podsOf(objs []placed, svc *corev1.Service, cluster string) (*reachedIstiod, error) {
	sel := k8slabels.SelectorFromSet(svc.Spec.Selector)
	var found []*reachedIstiod
	for _, p := range objs {
		if p.obj.GetKind() != "Deployment" {
			continue
		}
		var dep appsv1.Deployment
		if err := fromUnstructured(p.obj, &dep); err != nil {
			return nil, err
		}
		if dep.Namespace == svc.Namespace && sel.Matches(k8slabels.Set(dep.Spec.Template.Labels)) {
			rev := containerEnv(dep.Spec.Template.Spec, "discovery")["REVISION"]
			found = append(found, &reachedIstiod{revision: rev, file: p.file, objs: objs, dep: &dep, cluster: cluster,
				via: fmt.Sprintf("Service %s → Deployment %s in %s", svc.Name, dep.Name, cluster)})
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("Service %s selects no istiod in %s", svc.Name, cluster)
	case 1:
		return found[0], nil
	}
	var names []string
	for _, f := range found {
		names = append(names, f.dep.Name)
	}
	return nil, fmt.Errorf("Service %s selects several istiods in %s: %v", svc.Name, cluster, names)
}

// endpointAddresses are the addresses of svc's EndpointSlices, for its
// port.
func endpointAddresses(objs []placed, svc *corev1.Service, port int32) ([]string, error) {
	if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Port == port }) {
		return nil, fmt.Errorf("Service %s has no port %d", svc.Name, port)
	}
	var addrs []string
	for _, p := range objs {
		if p.obj.GetKind() != "EndpointSlice" || p.obj.GetLabels()[discoveryv1.LabelServiceName] != svc.Name || p.obj.GetNamespace() != svc.Namespace {
			continue
		}
		var es discoveryv1.EndpointSlice
		if err := fromUnstructured(p.obj, &es); err != nil {
			return nil, err
		}
		for _, ep := range es.Endpoints {
			for _, a := range ep.Addresses {
				if !slices.Contains(addrs, a) {
					addrs = append(addrs, a)
				}
			}
		}
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("Service %s has no endpoints", svc.Name)
	}
	return addrs, nil
}

// sniRoute is the destination host the istiod routes (TLS VirtualServices
// bound to a Gateway) of a primary give server name sni on port: exactly
// one route may match, as Envoy's filter chain match picks one.
func sniRoute(objs []placed, port int, sni string) (string, string, error) {
	type route struct{ dest, file string }
	var found []route
	for _, p := range objs {
		if p.obj.GetKind() != "VirtualService" {
			continue
		}
		var vs networkingv1.VirtualService
		if err := fromUnstructured(p.obj, &vs); err != nil {
			return "", "", err
		}
		if len(vs.Spec.GetGateways()) == 0 {
			continue
		}
		for _, r := range vs.Spec.GetTls() {
			for _, m := range r.GetMatch() {
				if m.GetPort() != uint32(port) || !slices.ContainsFunc(m.GetSniHosts(), func(h string) bool { return hostMatches(h, sni) }) {
					continue
				}
				for _, d := range r.GetRoute() {
					found = append(found, route{d.GetDestination().GetHost(), p.file + " (VirtualService " + vs.Name + ")"})
				}
			}
		}
	}
	switch len(found) {
	case 0:
		return "", "", fmt.Errorf("no istiod route matches")
	case 1:
		return found[0].dest, found[0].file, nil
	}
	var all []string
	for _, f := range found {
		all = append(all, f.dest+" by "+f.file)
	}
	return "", "", fmt.Errorf("%d istiod routes match, so either may take it: %s", len(found), strings.Join(all, "; "))
}

// hostMatches reports whether an SNI host pattern (exact, "*" or "*.suffix")
// matches name.
func hostMatches(pattern, name string) bool {
	if pattern == "*" || pattern == name {
		return true
	}
	suffix, ok := strings.CutPrefix(pattern, "*")
	return ok && strings.HasSuffix(name, suffix)
}

// tagSetDefault is the command a change plan moves istioctl's default tag
// with (render's defaultTagSteps).
var tagSetDefault = regexp.MustCompile(`^istioctl tag set default --revision '?([-a-z0-9]+)'? --overwrite `)

// planTagMoves are, per cluster, the revisions the change plan from old to
// new points istioctl's default tag at, in order; none when meshc refuses
// the plan (its rules say why, not this check).
func planTagMoves(oldMesh, newMesh *mesh.Mesh) map[string][]string {
	p, err := meshrender.BuildChangePlan(oldMesh, newMesh, meshrender.ChangeOptions{})
	if err != nil {
		return nil
	}
	out := map[string][]string{}
	for _, ph := range p.Phases {
		for _, st := range ph.Steps {
			if m := tagSetDefault.FindStringSubmatch(st.Command); m != nil {
				out[st.Cluster] = append(out[st.Cluster], m[1])
			}
		}
	}
	return out
}

// istioctlTagSet is what `istioctl tag set <tag> --revision rev
// --overwrite` applies in a cluster holding held: Istio's tag generation
// (istioctl/pkg/tag.Generate) asked with a client that answers with the
// cluster's webhooks.
func istioctlTagSet(held []placed, tag, rev string) ([]*unstructured.Unstructured, error) {
	var objs []runtime.Object
	for _, p := range held {
		if p.obj.GetKind() == "MutatingWebhookConfiguration" {
			var mwc admissionv1.MutatingWebhookConfiguration
			if err := fromUnstructured(p.obj, &mwc); err != nil {
				return nil, err
			}
			objs = append(objs, &mwc)
		}
	}
	out, err := revtag.Generate(context.Background(), kube.NewFakeClient(objs...), &revtag.GenerateOptions{
		Tag: tag, Revision: rev, Overwrite: true, Generate: true, IstioNamespace: "istio-system",
	})
	if err != nil {
		return nil, err
	}
	mfs, err := manifest.ParseMultiple(out)
	if err != nil {
		return nil, err
	}
	res := make([]*unstructured.Unstructured, len(mfs))
	for i, m := range mfs {
		res[i] = m.Unstructured
	}
	return res, nil
}
