package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	jsonpatch "github.com/evanphx/json-patch/v5"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pkg/config/mesh/meshwatcher"
	"istio.io/istio/pkg/kube/inject"
	"istio.io/istio/pkg/kube/multicluster"
)

// injectedProxy is what a pod's sidecar starts with once injected.
type injectedProxy struct {
	revision, discoveryAddress string
	env                        map[string]string
}

// injectWith sends a pod created in namespace ns to the sidecar injection
// webhook of the istiod r reached, on the path the webhook was called at,
// as the API server would: Istio's own handler (inject.Webhook) built as
// istiod builds it, with that istiod's revision (its REVISION env), its
// install's injector ConfigMap and mesh config. It returns the injected
// sidecar's revision annotation, discovery address and env.
func injectWith(r *reachedIstiod, ns string) (*injectedProxy, error) {
	var objs []*unstructured.Unstructured
	for _, p := range r.objs {
		if p.file == r.file {
			objs = append(objs, p.obj)
		}
	}
	cm, err := configMap(objs, revisioned("istio-sidecar-injector", r.revision))
	if err != nil {
		return nil, err
	}
	cfg, err := inject.UnmarshalConfig([]byte(cm.Data["config"]))
	if err != nil {
		return nil, fmt.Errorf("ConfigMap %s: config: %w", cm.Name, err)
	}
	mc, err := meshConfig(objs, r.revision)
	if err != nil {
		return nil, err
	}
	store := model.NewFakeStore()
	env := &model.Environment{Watcher: meshwatcher.NewTestWatcher(mc), ConfigStore: store}
	env.SetPushContext(&model.PushContext{ProxyConfigs: model.GetProxyConfigs(store, mc)})
	mux := http.NewServeMux()
	if _, err := inject.NewWebhook(inject.WebhookParameters{
		Watcher: staticInjectorConfig{&cfg, cm.Data["values"]}, Env: env, Mux: mux,
		Revision: r.revision, MultiCluster: multicluster.NewFakeController(),
	}); err != nil {
		return nil, err
	}

	pod := corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "sample", Namespace: ns, Labels: samplePodLabels()},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "sample"}}},
	}
	raw, err := json.Marshal(pod)
	if err != nil {
		return nil, err
	}
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID: "meshc", Kind: metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
			Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
			Namespace: ns, Operation: admissionv1.Create, Object: runtime.RawExtension{Raw: raw},
		},
	}
	body, err := json.Marshal(review)
	if err != nil {
		return nil, err
	}
	req := httptest.NewRequest(http.MethodPost, r.path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("webhook answered %d: %s", rec.Code, rec.Body)
	}
	var resp admissionv1.AdmissionReview
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		return nil, err
	}
	if resp.Response == nil || !resp.Response.Allowed {
		return nil, fmt.Errorf("webhook refused the pod: %+v", resp.Response)
	}
	if len(resp.Response.Patch) == 0 {
		return nil, fmt.Errorf("webhook did not inject the pod")
	}
	patch, err := jsonpatch.DecodePatch(resp.Response.Patch)
	if err != nil {
		return nil, err
	}
	patched, err := patch.Apply(raw)
	if err != nil {
		return nil, err
	}
	var out corev1.Pod
	if err := json.Unmarshal(patched, &out); err != nil {
		return nil, err
	}
	penv := containerEnv(out.Spec, "istio-proxy")
	var pc struct {
		DiscoveryAddress string `json:"discoveryAddress"`
	}
	if err := json.Unmarshal([]byte(penv["PROXY_CONFIG"]), &pc); err != nil {
		return nil, fmt.Errorf("the sidecar's PROXY_CONFIG: %w", err)
	}
	return &injectedProxy{revision: out.Annotations[revLabel], discoveryAddress: pc.DiscoveryAddress, env: penv}, nil
}

// staticInjectorConfig is an injector config that does not change, as
// inject.Watcher serves it.
type staticInjectorConfig struct {
	cfg    *inject.Config
	values string
}

func (s staticInjectorConfig) SetHandler(func(*inject.Config, string) error) {}
func (s staticInjectorConfig) Run(<-chan struct{})                           {}
func (s staticInjectorConfig) Get() (*inject.Config, string, error)          { return s.cfg, s.values, nil }
