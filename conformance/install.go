package conformance

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"istio.io/istio/operator/pkg/render"

	"meshc.dev/meshc/mesh"
)

// Generate runs the IstioOperator file at path through Istio's manifest
// generation, the step `istioctl manifest generate -f` and `istioctl install
// -f` share, without a cluster. It returns the Kubernetes objects istioctl
// would apply. Unlike istioctl, which prints warnings and carries on, it
// treats every warning as an error: meshc's output must install cleanly.
//
// tolerated are warnings of the pinned Istio that the Mesh's own release
// does not give (releaseWarnings): a warning made only of them is dropped.
func Generate(path string, tolerated ...string) ([]*unstructured.Unstructured, error) {
	var warnings warningLog
	sets, _, err := render.GenerateManifest([]string{path}, nil, false, nil, &warnings)
	if err != nil {
		return nil, fmt.Errorf("istioctl manifest generate: %w", err)
	}
	warnings = slices.DeleteFunc(warnings, func(w string) bool { return onlyTolerated(w, tolerated) })
	if len(warnings) > 0 {
		return nil, fmt.Errorf("istioctl manifest generate: warnings: %s", strings.Join(warnings, "; "))
	}
	var objs []*unstructured.Unstructured
	for _, set := range sets {
		for _, m := range set.Manifests {
			objs = append(objs, m.Unstructured)
		}
	}
	return objs, nil
}

// warningLog collects what Istio's installer would print to the console
// (operator/pkg/util/clog.Logger), so Generate can fail on it.
type warningLog []string

func (w *warningLog) add(s string) { *w = append(*w, strings.TrimSpace(s)) }

func (w *warningLog) LogAndPrint(v ...any)                 { w.add(fmt.Sprint(v...)) }
func (w *warningLog) LogAndError(v ...any)                 { w.add(fmt.Sprint(v...)) }
func (w *warningLog) LogAndFatal(v ...any)                 { w.add(fmt.Sprint(v...)) }
func (w *warningLog) LogAndPrintf(format string, a ...any) { w.add(fmt.Sprintf(format, a...)) }
func (w *warningLog) LogAndErrorf(format string, a ...any) { w.add(fmt.Sprintf(format, a...)) }
func (w *warningLog) LogAndFatalf(format string, a ...any) { w.add(fmt.Sprintf(format, a...)) }
func (w *warningLog) Print(s string)                       { w.add(s) }
func (w *warningLog) PrintErr(s string)                    { w.add(s) }

// releaseWarnings are the warnings of the pinned Istio (1.31) about settings
// meshc emits only for older releases, where they are the documented way
// (mesh.IstioChanges): ISTIO_META_DNS_AUTO_ALLOCATE, deprecated from
// 1.25, which meshc sets before 1.25 only.
func releaseWarnings(m *mesh.Mesh) []string {
	for _, c := range mesh.IstioChanges {
		if c.Name == mesh.ChangeIPAutoallocate && c.Affects(m.IstioMinor()) {
			return []string{"'ISTIO_META_DNS_AUTO_ALLOCATE' is deprecated"}
		}
	}
	return nil
}

// onlyTolerated reports whether every line of warning w that says something
// (not the "N errors occurred" header of a multierror) contains one of
// tolerated.
func onlyTolerated(w string, tolerated []string) bool {
	said := false
	for line := range strings.Lines(w) {
		line = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(line), "*"))
		if line == "" || strings.HasSuffix(line, "occurred:") {
			continue
		}
		said = true
		if !slices.ContainsFunc(tolerated, func(t string) bool { return strings.Contains(line, t) }) {
			return false
		}
	}
	return said && len(tolerated) > 0
}
