package conformance

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	commonutil "helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	loaderv2 "helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/istioctl/pkg/install/k8sversion"
	"istio.io/istio/manifests"
	"istio.io/istio/operator/pkg/manifest"
	"istio.io/istio/pkg/test/util/yml"
	"istio.io/istio/pkg/util/protomarshal"

	"meshc.dev/meshc/render"
)

// chartDirs maps the charts of Istio's Helm repository to their source
// directories under manifests/ at the pinned commit: the same files the
// release builder packages as istio/base, istio/istiod and istio/gateway.
var chartDirs = map[string]string{
	render.ChartBase:    "charts/base",
	render.ChartIstiod:  "charts/istio-control/istio-discovery",
	render.ChartGateway: "charts/gateway",
	render.ChartCNI:     "charts/istio-cni",
	render.ChartZtunnel: "charts/ztunnel",
}

// profileKeys are the values every Istio chart reads in its zzz_profile.yaml
// template rather than from values.yaml: they select the profile files that
// are merged under the user's values.
var profileKeys = []string{"profile", "compatibilityVersion", "platform"}

// openValues are value trees whose keys the chart passes through without
// declaring them in values.yaml. meshConfig is checked against Istio's
// MeshConfig type instead.
var openValues = []string{"meshConfig"}

// RenderChart renders one of Istio's charts (render.ChartBase, ChartIstiod,
// ChartGateway) at the pinned commit with the values file at valuesPath, as
// `helm template <release> istio/<chart> -n istio-system -f <valuesPath>`
// would, in process, with the Helm library and chart loader istioctl itself
// uses. It is strict where Helm is not: a value the chart does not define
// (checked against its values.yaml tree, and its values.schema.json where it
// ships one), a meshConfig field Istio's MeshConfig lacks, and a warning the
// chart's NOTES print are all errors.
func RenderChart(chart, release, valuesPath string) ([]*unstructured.Unstructured, error) {
	vals, err := readValues(valuesPath)
	if err != nil {
		return nil, err
	}
	return renderChartValues(chart, release, vals)
}

// readValues reads a Helm values file strictly.
func readValues(valuesPath string) (map[string]any, error) {
	data, err := os.ReadFile(valuesPath)
	if err != nil {
		return nil, err
	}
	vals := map[string]any{}
	if err := yaml.UnmarshalStrict(data, &vals); err != nil {
		return nil, fmt.Errorf("helm: values: %w", err)
	}
	if vals == nil {
		vals = map[string]any{}
	}
	return vals, nil
}

// renderChartValues is RenderChart with the values given.
func renderChartValues(chart, release string, vals map[string]any) ([]*unstructured.Unstructured, error) {
	dir, ok := chartDirs[chart]
	if !ok {
		return nil, fmt.Errorf("helm: %q is not one of Istio's charts meshc installs", chart)
	}
	chrt, err := loadChart(manifests.BuiltinOrDir(""), dir)
	if err != nil {
		return nil, fmt.Errorf("helm: loading chart %s: %w", chart, err)
	}
	if err := strictValues(chrt, vals); err != nil {
		return nil, fmt.Errorf("helm: chart %s: %w", chart, err)
	}

	caps := *common.DefaultCapabilities
	kube, err := common.ParseKubeVersion("1." + strconv.Itoa(k8sversion.MinK8SVersion) + ".0")
	if err != nil {
		return nil, err
	}
	caps.KubeVersion = *kube
	// Schema validation (the gateway chart's values.schema.json) happens here.
	renderVals, err := commonutil.ToRenderValues(chrt, vals, common.ReleaseOptions{
		Name: release, Namespace: render.IstioNamespace, IsInstall: true,
	}, &caps)
	if err != nil {
		return nil, fmt.Errorf("helm: chart %s: values: %w", chart, err)
	}
	files, err := engine.Render(chrt, renderVals)
	if err != nil {
		return nil, fmt.Errorf("helm: chart %s: %w", chart, err)
	}
	var docs, warnings []string
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if strings.HasSuffix(name, "NOTES.txt") {
			for l := range strings.Lines(files[name]) {
				if w, ok := strings.CutPrefix(strings.TrimSpace(l), "WARNING: "); ok {
					warnings = append(warnings, w)
				}
			}
			continue
		}
		docs = append(docs, yml.SplitString(files[name])...)
	}
	if len(warnings) > 0 {
		return nil, fmt.Errorf("helm: chart %s: warnings: %s", chart, strings.Join(warnings, "; "))
	}
	for _, crd := range chrt.CRDObjects() {
		docs = append(docs, yml.SplitString(string(crd.File.Data))...)
	}
	mfs, err := manifest.Parse(docs)
	if err != nil {
		return nil, fmt.Errorf("helm: chart %s: parsing its output: %w", chart, err)
	}
	objs := make([]*unstructured.Unstructured, 0, len(mfs))
	for _, m := range mfs {
		objs = append(objs, m.Unstructured)
	}
	return objs, nil
}

// strictValues reports every key of vals the chart does not define. Istio's
// charts keep their defaults under _internal_defaults_do_not_set (the profile
// machinery merges them in a template), so the defined keys are that tree,
// the other top-level keys of values.yaml, and the profile keys. A default
// that is an empty map or null leaves what goes under it open; so do
// openValues, which are checked by type instead.
func strictValues(chrt *chartv2.Chart, vals map[string]any) error {
	known := map[string]any{}
	for k, v := range chrt.Values {
		if k != "_internal_defaults_do_not_set" {
			known[k] = v
		}
	}
	if d, ok := chrt.Values["_internal_defaults_do_not_set"].(map[string]any); ok {
		for k, v := range d {
			known[k] = v
		}
	}
	for _, k := range profileKeys {
		if _, ok := known[k]; !ok {
			known[k] = nil
		}
	}
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(vals)) {
		if slices.Contains(openValues, k) {
			if _, ok := known[k]; !ok {
				errs = append(errs, fmt.Errorf("unknown value %q: the chart does not read it", k))
			} else if k == "meshConfig" {
				errs = append(errs, checkMeshConfig(vals[k]))
			}
			continue
		}
		errs = append(errs, unknownKeys(k, known, vals[k])...)
	}
	return errors.Join(errs...)
}

// unknownKeys checks the value at key (a dotted path) against the chart's
// default at the same place in known.
func unknownKeys(key string, known map[string]any, v any) []error {
	name := key[strings.LastIndex(key, ".")+1:]
	def, ok := known[name]
	if !ok {
		return []error{fmt.Errorf("unknown value %q: the chart's values.yaml does not define it", key)}
	}
	defMap, defIsMap := def.(map[string]any)
	if !defIsMap || len(defMap) == 0 {
		return nil // a scalar, a list, null or {}: any value of the user's
	}
	m, isMap := v.(map[string]any)
	if !isMap {
		return []error{fmt.Errorf("value %q: the chart expects a map here, got %T", key, v)}
	}
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(m)) {
		errs = append(errs, unknownKeys(key+"."+k, defMap, m[k])...)
	}
	return errs
}

// checkMeshConfig decodes the meshConfig value strictly into Istio's
// MeshConfig type: the chart copies it verbatim into the mesh config
// istiod reads, which ignores fields it does not know.
func checkMeshConfig(v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	if err := protomarshal.ApplyYAMLStrict(string(b), &meshconfig.MeshConfig{}); err != nil {
		return fmt.Errorf("value \"meshConfig\": not an Istio MeshConfig: %w", err)
	}
	return nil
}

// loadChart reads a chart from fsys at root, as Helm's loader.LoadDir does
// from disk.
func loadChart(fsys fs.FS, root string) (*chartv2.Chart, error) {
	var files []*archive.BufferedFile
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		files = append(files, &archive.BufferedFile{Name: strings.TrimPrefix(p, root+"/"), Data: b})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return loaderv2.LoadFiles(files)
}
