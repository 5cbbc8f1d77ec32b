package conformance

import (
	"cmp"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	gocmp "github.com/google/go-cmp/cmp"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/render"
)

// Names Istio gives a revision tag's objects (istiod chart,
// revision-tags-mwc.yaml and revision-tags-svc.yaml).
const (
	tagWebhookPrefix = "istio-revision-tag-"
	tagServicePrefix = "istiod-revision-tag-"
	revLabel         = "istio.io/rev"
)

// installerLabels are labels Istio's installers put on what they own, which
// meshc's revision-tags.yaml leaves out by design: it is applied with
// kubectl, and app.kubernetes.io/managed-by: meshc says who owns it. An
// installer's owner labels on it would make istioctl prune it, or Helm
// refuse to adopt it, at the next install.
var installerLabels = []string{
	"release",
	"install.operator.istio.io/owning-resource",
	"operator.istio.io/component",
	"app.kubernetes.io/name",
	"app.kubernetes.io/instance",
	"app.kubernetes.io/part-of",
	"app.kubernetes.io/version",
	"app.kubernetes.io/managed-by",
	"helm.sh/chart",
}

// checkRevision checks that a control plane install of revision rev (the
// Mesh's, or its previous one's) makes the revision's objects, under the names Istio gives them: a
// primary's istiod Deployment, Service, mesh config and injector, a
// remote's istiod Service and injector. Names come from the Mesh.
func (v *clusterCheck) checkRevision(rel string, objs []*unstructured.Unstructured, rev string) {
	if rev == "" {
		return
	}
	want := [][2]string{{"Service", revisioned("istiod", rev)}, {"MutatingWebhookConfiguration", revisioned("istio-sidecar-injector", rev)}}
	if v.cluster.IsPrimary() {
		want = append(want, [][2]string{{"Deployment", revisioned("istiod", rev)},
			{"ConfigMap", revisioned("istio", rev)}, {"ConfigMap", revisioned("istio-sidecar-injector", rev)}}...)
	}
	for _, w := range want {
		i := slices.IndexFunc(objs, func(o *unstructured.Unstructured) bool { return o.GetKind() == w[0] && o.GetName() == w[1] })
		if i < 0 {
			v.failf(rel, "revision %s: Istio generated no %s %s", rev, w[0], w[1])
			continue
		}
		if got := objs[i].GetLabels()[revLabel]; got != rev {
			v.failf(rel, "revision %s: %s %s label %s: got %q, want %q", rev, w[0], w[1], revLabel, got, rev)
		}
	}
	var dep appsv1.Deployment
	if v.cluster.IsPrimary() && typed(objs, "Deployment", revisioned("istiod", rev), &dep) == nil {
		v.expect(rel, "istiod env REVISION", containerEnv(dep.Spec.Template.Spec, "discovery")["REVISION"], rev)
	}
	// The per-revision injector selects istio.io/rev=<revision> only: the
	// tags' webhooks (revision-tags.yaml) are what namespaces select.
	var mwc admissionv1.MutatingWebhookConfiguration
	if typed(objs, "MutatingWebhookConfiguration", revisioned("istio-sidecar-injector", rev), &mwc) == nil {
		for _, wh := range mwc.Webhooks {
			if s := wh.ClientConfig.Service; s != nil && s.Name != revisioned("istiod", rev) {
				v.failf(rel, "revision %s: webhook %s calls Service %s, want %s", rev, wh.Name, s.Name, revisioned("istiod", rev))
			}
		}
	}
}

// checkDefaultValidator checks, once every install of the cluster is
// generated, that Istio's default validating webhook calls the Mesh's
// revision's istiod: without one, the chart's default Service istiod does
// not exist beside a revision and, once the webhook is Fail, every Istio
// config write is refused. On the Helm path, while a previous revision runs
// beside the Mesh's own, it calls the previous one, as Istio's Helm canary
// guide switches defaultRevision only once the canary is done (a Helm
// upgrade keeps the webhook failing closed, and the base chart syncs before
// the new istiod in Git).
func (v *clusterCheck) checkDefaultValidator() {
	if v.installFailed {
		return
	}
	rev := v.mesh.Spec.Istio.Revision
	if p := v.mesh.Spec.Istio.Previous; p != nil && v.mesh.UsesHelm() {
		rev = p.Revision
	}
	var vwc admissionv1.ValidatingWebhookConfiguration
	if err := typed(v.installed, "ValidatingWebhookConfiguration", "istiod-default-validator", &vwc); err != nil {
		return // the default revision's install has none without revision; a revision's must
	}
	dir, cp, _, others, _ := v.installFiles()
	rel := dir + "/" + cp
	if v.mesh.UsesHelm() {
		rel = dir + "/" + others[0] // base.values.yaml holds defaultRevision
	}
	for _, wh := range vwc.Webhooks {
		s := wh.ClientConfig.Service
		if s == nil {
			continue
		}
		if want := revisioned("istiod", rev); s.Name != want {
			v.failf(rel, "ValidatingWebhookConfiguration istiod-default-validator webhook %s calls Service %s, want %s, the istiod of revision %s", wh.Name, s.Name, want, cmp.Or(rev, "default"))
		} else if err := typedIn(v.installed, "Service", s.Namespace, s.Name, &corev1.Service{}); err != nil {
			v.failf(rel, "ValidatingWebhookConfiguration istiod-default-validator webhook %s: %v", wh.Name, err)
		}
	}
}

// checkRevisionTags compares the cluster's revision-tags.yaml with what
// Istio's istiod chart renders for the same tags (values revisionTags) over
// the cluster's own install values: the webhooks, their clients (Service,
// path and port, or URL), rules, policies and selectors, and the tag
// Services' ports and selectors. Labels the installers own are left out
// (installerLabels).
func (v *clusterCheck) checkRevisionTags() {
	if len(v.mesh.Spec.Istio.Tags) == 0 || v.installFailed {
		return
	}
	rel := render.ManifestsDir + "/" + render.RevisionTagsFile
	data, err := os.ReadFile(filepath.Join(v.root, v.file(rel)))
	if err != nil {
		return // checkArtifacts reports it missing
	}
	got, err := decodeObjects(data)
	if err != nil {
		v.fail(rel, err)
		return
	}
	want, from, err := v.istioTagObjects()
	if err != nil {
		v.fail(from, fmt.Errorf("rendering Istio's revision tags for it: %w", err))
		return
	}
	v.errs = append(v.errs, compareTagObjects(v.file(rel), from, got, want)...)
}

// istioTagObjects renders, for each revision the cluster installs (the
// Mesh's and spec.istio.previous), that revision's control plane install
// again with the tags that point at it in values.revisionTags, as `helm
// install --set revisionTags` or an IstioOperator with them would, and
// returns Istio's tag webhooks and Services, and the install files rendered.
func (v *clusterCheck) istioTagObjects() ([]*unstructured.Unstructured, string, error) {
	dir, cp, _, _, _ := v.installFiles()
	type install struct {
		rev, file string
		m         *mesh.Mesh
	}
	installs := []install{{v.mesh.Spec.Istio.Revision, cp, v.mesh}}
	if p := v.mesh.Spec.Istio.Previous; p != nil {
		installs = append(installs, install{p.Revision, v.previousFile(), v.mesh.Previous()})
	}
	var tagObjs []*unstructured.Unstructured
	var rels []string
	for _, in := range installs {
		var tags []any
		for _, t := range v.mesh.Spec.Istio.Tags {
			if t.Revision == in.rev {
				tags = append(tags, t.Name)
			}
		}
		if len(tags) == 0 {
			continue
		}
		rel := dir + "/" + in.file
		rels = append(rels, v.file(rel))
		objs, err := v.renderWithTags(filepath.Join(v.root, v.file(rel)), in.rev, in.m, tags)
		if err != nil {
			return nil, rel, err
		}
		for _, o := range objs {
			if (o.GetKind() == "MutatingWebhookConfiguration" && strings.HasPrefix(o.GetName(), tagWebhookPrefix)) ||
				(o.GetKind() == "Service" && strings.HasPrefix(o.GetName(), tagServicePrefix)) {
				tagObjs = append(tagObjs, o)
			}
		}
	}
	return tagObjs, strings.Join(rels, " and "), nil
}

// renderWithTags renders the control plane install at path, of revision
// rev of mesh m, with values.revisionTags set to tags.
func (v *clusterCheck) renderWithTags(path, rev string, m *mesh.Mesh, tags []any) ([]*unstructured.Unstructured, error) {
	if v.mesh.UsesHelm() {
		vals, err := readValues(path)
		if err != nil {
			return nil, err
		}
		vals["revisionTags"] = tags
		return renderChartValues(render.ChartIstiod, revisioned("istiod", rev), vals)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var iop map[string]any
	if err := yaml.Unmarshal(data, &iop); err != nil {
		return nil, err
	}
	spec, _ := iop["spec"].(map[string]any)
	values, _ := spec["values"].(map[string]any)
	if values == nil {
		values = map[string]any{}
		spec["values"] = values
	}
	values["revisionTags"] = tags
	out, err := yaml.Marshal(iop)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp("", "meshc-tags-*.yaml")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(out); err != nil {
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	return Generate(tmp.Name(), releaseWarnings(m)...)
}

// compareTagObjects reports each difference between meshc's tag objects
// (file) and Istio's (rendered from istioFile).
func compareTagObjects(file, istioFile string, got, want []*unstructured.Unstructured) diag.Problems {
	var out diag.Problems
	fail := func(format string, a ...any) {
		out = append(out, problemAt(CheckAcceptance, file, fmt.Sprintf(format, a...)))
	}
	key := func(o *unstructured.Unstructured) string { return o.GetKind() + " " + o.GetName() }
	gotBy, wantBy := map[string]*unstructured.Unstructured{}, map[string]*unstructured.Unstructured{}
	for _, o := range got {
		gotBy[key(o)] = o
	}
	for _, o := range want {
		wantBy[key(o)] = o
	}
	for _, k := range slices.Sorted(maps.Keys(wantBy)) {
		if gotBy[k] == nil {
			fail("no %s, which Istio's istiod chart renders for the Mesh's tags over %s", k, istioFile)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(gotBy)) {
		g, w := gotBy[k], wantBy[k]
		if w == nil {
			fail("%s: Istio's istiod chart renders no such object for the Mesh's tags over %s", k, istioFile)
			continue
		}
		var d string
		var err error
		switch g.GetKind() {
		case "MutatingWebhookConfiguration":
			d, err = diffTyped(g, w, &admissionv1.MutatingWebhookConfiguration{}, &admissionv1.MutatingWebhookConfiguration{})
		case "Service":
			d, err = diffTyped(g, w, &corev1.Service{}, &corev1.Service{})
		}
		if err != nil {
			fail("%s: %v", k, err)
		} else if d != "" {
			fail("%s differs from what Istio's istiod chart renders for the tag over %s (-meshc +Istio):\n%s", k, istioFile, d)
		}
	}
	return out
}

// diffTyped decodes both objects into their API type, drops the installers'
// labels, and diffs them.
func diffTyped[T interface {
	*admissionv1.MutatingWebhookConfiguration | *corev1.Service
}](got, want *unstructured.Unstructured, g, w T) (string, error) {
	for _, p := range []struct {
		o    *unstructured.Unstructured
		into T
	}{{got, g}, {want, w}} {
		if err := fromUnstructured(p.o, p.into); err != nil {
			return "", err
		}
		labels := any(p.into).(interface {
			GetLabels() map[string]string
			SetLabels(map[string]string)
		})
		l := maps.Clone(labels.GetLabels())
		for _, k := range installerLabels {
			delete(l, k)
		}
		labels.SetLabels(l)
	}
	return gocmp.Diff(g, w), nil
}
