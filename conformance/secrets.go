package conformance

import (
	"encoding/base64"
	"os"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"istio.io/istio/pkg/kube"
)

// Istio's remote secret conventions (pkg/kube/multicluster, istioctl's
// create-remote-secret).
const (
	multiClusterLabel = "istio/multiCluster"
	clusterAnnotation = "networking.istio.io/cluster"
)

// Sample values for the placeholders a declarative remote secret holds in
// place of a credential, so the kubeconfig can be read as istiod would read
// the filled-in Secret.
var (
	sampleCA     = []byte("sample CA bundle")
	sampleToken  = "sample-token"
	sampleServer = "https://192.0.2.200:6443"
)

// checkRemoteSecret checks a Secret istiod's multicluster controller would
// pick up: each key names a cluster of the mesh, other than the one the
// Secret is applied to, and holds a kubeconfig that istiod's own loader
// accepts once its placeholders are filled in.
func (v *clusterCheck) checkRemoteSecret(rel string, s *corev1.Secret) {
	if got := s.Labels[multiClusterLabel]; got != "true" {
		v.failf(rel, "Secret %s: label %s: got %q, want \"true\"; istiod ignores it", s.Name, multiClusterLabel, got)
	}
	data := map[string]string{}
	for k, b := range s.Data {
		data[k] = string(b)
	}
	for k, str := range s.StringData {
		data[k] = str
	}
	if len(data) == 0 {
		v.failf(rel, "Secret %s holds no kubeconfig", s.Name)
	}
	for _, name := range sortedKeys(data) {
		if name == v.cluster.Name || v.clusterNamed(name) == nil {
			v.failf(rel, "Secret %s: key %q is not another cluster of the mesh", s.Name, name)
			continue
		}
		if got := s.Annotations[clusterAnnotation]; got != name {
			v.failf(rel, "Secret %s: annotation %s: got %q, want %q", s.Name, clusterAnnotation, got, name)
		}
		var unknown []string
		filled := os.Expand(data[name], func(p string) string {
			switch {
			case strings.HasSuffix(p, "_CA_DATA"):
				return base64.StdEncoding.EncodeToString(sampleCA)
			case strings.HasSuffix(p, "_TOKEN"):
				return sampleToken
			case strings.HasSuffix(p, "_API_SERVER"):
				return sampleServer
			}
			unknown = append(unknown, p)
			return ""
		})
		if len(unknown) > 0 {
			v.failf(rel, "Secret %s: unknown placeholders %v", s.Name, unknown)
			continue
		}
		rc, err := kube.NewUntrustedRestConfig([]byte(filled))
		if err != nil {
			v.failf(rel, "Secret %s: istiod would reject the kubeconfig for %s: %v", s.Name, name, err)
			continue
		}
		if rc.BearerToken != sampleToken || string(rc.CAData) != string(sampleCA) {
			v.failf(rel, "Secret %s: the kubeconfig for %s does not authenticate with the reader token and CA it is filled in with", s.Name, name)
		}
		want := sampleServer
		if c := v.clusterNamed(name); c.APIServer != "" {
			want = c.APIServer
		}
		if rc.Host != want {
			v.failf(rel, "Secret %s: kubeconfig server %q, want %q", s.Name, rc.Host, want)
		}
	}
}

// checkReaderRole requires meshc's reader ClusterRole to grant everything
// the istio-reader ClusterRole of Istio's own charts grants, so a primary
// using meshc's remote access can read what istiod needs from the cluster.
func (v *clusterCheck) checkReaderRole(rel string, role *rbacv1.ClusterRole) {
	var istio rbacv1.ClusterRole
	found := false
	for _, o := range v.installed {
		if o.GetKind() == "ClusterRole" && strings.HasPrefix(o.GetName(), "istio-reader-clusterrole") {
			if err := fromUnstructured(o, &istio); err != nil {
				v.fail(rel, err)
				return
			}
			found = true
			break
		}
	}
	if !found {
		if !v.installFailed {
			v.failf(rel, "no istio-reader ClusterRole in Istio's install of %s to compare ClusterRole %s with", v.cluster.Name, role.Name)
		}
		return
	}
	for _, r := range istio.Rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				var missing []string
				for _, verb := range r.Verbs {
					if !grants(role.Rules, g, res, verb) {
						missing = append(missing, verb)
					}
				}
				if len(missing) > 0 {
					v.failf(rel, "ClusterRole %s does not grant %s on %s/%s, which Istio's %s does",
						role.Name, strings.Join(missing, ", "), g, res, istio.Name)
				}
			}
		}
	}
}

// grants reports whether rules allow verb on resource in group.
func grants(rules []rbacv1.PolicyRule, group, resource, verb string) bool {
	for _, r := range rules {
		if (slices.Contains(r.APIGroups, group) || slices.Contains(r.APIGroups, "*")) &&
			(slices.Contains(r.Resources, resource) || slices.Contains(r.Resources, "*")) &&
			(slices.Contains(r.Verbs, verb) || slices.Contains(r.Verbs, "*")) {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
