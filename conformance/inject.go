package conformance

import (
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pkg/config/mesh"
	"istio.io/istio/pkg/kube/inject"
)

// revisioned is the name Istio's istiod chart gives its object called base
// in control plane revision rev: base itself for the default revision ("").
func revisioned(base, rev string) string {
	if rev == "" || rev == "default" {
		return base
	}
	return base + "-" + rev
}

// meshConfig parses the mesh config istiod reads from the istio ConfigMap of a
// generated control plane of revision rev, with Istio's defaults applied as
// istiod does.
func meshConfig(objs []*unstructured.Unstructured, rev string) (*meshconfig.MeshConfig, error) {
	cm, err := configMap(objs, revisioned("istio", rev))
	if err != nil {
		return nil, err
	}
	mc, err := mesh.ApplyMeshConfigDefaults(cm.Data["mesh"])
	if err != nil {
		return nil, fmt.Errorf("ConfigMap istio: mesh: %w", err)
	}
	return mc, nil
}

// sidecarEnv injects a sample workload with the sidecar injector
// configuration of a generated control plane (what `istioctl kube-inject
// --injectConfigFile --valuesFile --meshConfigFile` does) and returns the env
// of the injected istio-proxy container: what every sidecar of the cluster
// starts with. rev is the control plane's revision ("" for the default).
func sidecarEnv(objs []*unstructured.Unstructured, rev string) (map[string]string, error) {
	cm, err := configMap(objs, revisioned("istio-sidecar-injector", rev))
	if err != nil {
		return nil, err
	}
	cfg, err := inject.UnmarshalConfig([]byte(cm.Data["config"]))
	if err != nil {
		return nil, fmt.Errorf("ConfigMap istio-sidecar-injector: config: %w", err)
	}
	vals, err := inject.NewValuesConfig(cm.Data["values"])
	if err != nil {
		return nil, fmt.Errorf("ConfigMap istio-sidecar-injector: values: %w", err)
	}
	mc, err := meshConfig(objs, rev)
	if err != nil {
		return nil, err
	}
	labels := map[string]string{"app": "sample"}
	workload := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "sample", Namespace: "sample"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "sample"}}},
			},
		},
	}
	var warnings []string
	out, err := inject.IntoObject(nil, cfg.Templates, vals, "", mc, workload, func(w string) { warnings = append(warnings, w) })
	if err != nil {
		return nil, fmt.Errorf("injecting a sidecar: %w", err)
	}
	if len(warnings) > 0 {
		return nil, fmt.Errorf("injecting a sidecar: warnings: %q", warnings)
	}
	injected, ok := out.(*appsv1.Deployment)
	if !ok {
		return nil, fmt.Errorf("injecting a sidecar: got %T, want a Deployment", out)
	}
	spec := injected.Spec.Template.Spec
	if !slices.ContainsFunc(append(spec.InitContainers, spec.Containers...), func(c corev1.Container) bool { return c.Name == "istio-proxy" }) {
		return nil, fmt.Errorf("injecting a sidecar: no istio-proxy container")
	}
	return containerEnv(spec, "istio-proxy"), nil
}

// configMap returns the generated ConfigMap called name.
func configMap(objs []*unstructured.Unstructured, name string) (*corev1.ConfigMap, error) {
	var cm corev1.ConfigMap
	if err := typed(objs, "ConfigMap", name, &cm); err != nil {
		return nil, err
	}
	return &cm, nil
}

// typed finds the generated object of kind and name, in any namespace, and
// converts it to its Go API type.
func typed(objs []*unstructured.Unstructured, kind, name string, into any) error {
	return typedIn(objs, kind, "", name, into)
}

// typedIn is typed restricted to one namespace; "" means any.
func typedIn(objs []*unstructured.Unstructured, kind, namespace, name string, into any) error {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name && (namespace == "" || o.GetNamespace() == namespace) {
			return fromUnstructured(o, into)
		}
	}
	return fmt.Errorf("no %s %s generated", kind, name)
}

// fromUnstructured converts a generated object to its Go API type.
func fromUnstructured(o *unstructured.Unstructured, into any) error {
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, into); err != nil {
		return fmt.Errorf("%s %s: %w", o.GetKind(), o.GetName(), err)
	}
	return nil
}
