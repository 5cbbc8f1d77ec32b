package conformance

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"istio.io/istio/operator/pkg/render"
)

// Generate runs the IstioOperator file at path through Istio's manifest
// generation, the step `istioctl manifest generate -f` and `istioctl install
// -f` share, without a cluster. It returns the Kubernetes objects istioctl
// would apply. Unlike istioctl, which prints warnings and carries on, it
// treats every warning as an error: meshc's output must install cleanly.
func Generate(path string) ([]*unstructured.Unstructured, error) {
	var warnings warningLog
	sets, _, err := render.GenerateManifest([]string{path}, nil, false, nil, &warnings)
	if err != nil {
		return nil, fmt.Errorf("istioctl manifest generate: %w", err)
	}
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
