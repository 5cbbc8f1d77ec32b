package compiler_test

import (
	"bytes"
	"cmp"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/output"
	"meshc.dev/meshc/render"
	"meshc.dev/meshc/rules"
)

// guaranteeChecks verifies each entry of rules.Guarantees on a rendered
// mesh; the catalogue's "by construction" claims are tested, not just said.
var guaranteeChecks = map[string]func(t *testing.T, m *mesh.Mesh, out *output.Output){
	rules.Guarantees[0].Mistake: func(t *testing.T, m *mesh.Mesh, out *output.Output) {
		for _, c := range m.Spec.Clusters {
			if got := values(t, m, out, c, "global", "multiCluster", "clusterName"); got != c.Name {
				t.Errorf("%s: clusterName %q", c.Name, got)
			}
		}
		byContext := map[string]string{}
		for _, c := range m.Spec.Clusters {
			byContext[c.Context] = c.Name
		}
		secrets := regexp.MustCompile(`create-remote-secret --context=(\S+) --name=(\S+)`).FindAllStringSubmatch(string(out.Lookup(render.PlanFile).Data), -1)
		if len(secrets) == 0 && len(m.Spec.Clusters) > 1 {
			t.Errorf("PLAN.md creates no remote secrets")
		}
		for _, s := range secrets {
			if byContext[s[1]] != s[2] {
				t.Errorf("remote secret for context %s is named %q, cluster is %q", s[1], s[2], byContext[s[1]])
			}
		}
	},
	rules.Guarantees[1].Mistake: func(t *testing.T, m *mesh.Mesh, out *output.Output) {
		for _, c := range m.Spec.Clusters {
			value := values(t, m, out, c, "global", "network")
			label := c.Network // single-network meshes need no label
			if m.MultiNetwork() {
				label = lookup(t, out, c.Name+"/manifests/namespace.yaml", "metadata", "labels", "topology.istio.io/network")
			}
			if label != c.Network || value != c.Network {
				t.Errorf("%s: network label %q, values.global.network %q, want %q", c.Name, label, value, c.Network)
			}
		}
	},
	rules.Guarantees[2].Mistake: func(t *testing.T, m *mesh.Mesh, out *output.Output) {
		for _, c := range m.Spec.Clusters {
			if got := values(t, m, out, c, "global", "meshID"); got != m.Spec.MeshID {
				t.Errorf("%s: meshID %q, want %q", c.Name, got, m.Spec.MeshID)
			}
		}
	},
	rules.Guarantees[3].Mistake: func(t *testing.T, m *mesh.Mesh, out *output.Output) {
		for _, c := range m.Spec.Clusters {
			if got := values(t, m, out, c, "meshConfig", "trustDomain"); got != m.Spec.TrustDomain {
				t.Errorf("%s: trustDomain %q, want %q", c.Name, got, m.Spec.TrustDomain)
			}
		}
	},
	rules.Guarantees[4].Mistake: func(t *testing.T, m *mesh.Mesh, out *output.Output) {
		for _, c := range m.Spec.Clusters {
			f := out.Lookup(c.Name + "/manifests/" + render.FederationPeersFile)
			if f == nil {
				continue
			}
			dec := yaml.NewDecoder(bytes.NewReader(f.Data))
			gatewayOf := map[string]string{} // network → remote Gateway
			var endpointNets []string
			for {
				var doc struct {
					Kind     string
					Metadata struct {
						Name   string
						Labels map[string]string
					}
					Spec struct {
						Endpoints []struct{ Network string }
					}
				}
				if err := dec.Decode(&doc); err != nil {
					break
				}
				switch doc.Kind {
				case "Gateway":
					gatewayOf[doc.Metadata.Labels["topology.istio.io/network"]] = doc.Metadata.Name
				case "ServiceEntry":
					for _, ep := range doc.Spec.Endpoints {
						endpointNets = append(endpointNets, ep.Network)
					}
				}
			}
			if len(endpointNets) == 0 {
				t.Errorf("%s: %s holds no service entry endpoints", c.Name, render.FederationPeersFile)
			}
			for _, n := range endpointNets {
				if gatewayOf[n] == "" {
					t.Errorf("%s: an imported endpoint is on network %q, which no istio-remote Gateway is labelled with", c.Name, n)
				}
			}
		}
	},
	rules.Guarantees[5].Mistake: func(t *testing.T, m *mesh.Mesh, out *output.Output) {
		for _, c := range istioCSRClusters(m) {
			if got, name := lookup(t, out, c.Name+"/ca/istio-csr.values.yaml", "app", "server", "clusterID"), values(t, m, out, c, "global", "multiCluster", "clusterName"); got != c.Name || name != c.Name {
				t.Errorf("%s: istio-csr's clusterID %q, clusterName %q", c.Name, got, name)
			}
		}
	},
	rules.Guarantees[6].Mistake: func(t *testing.T, m *mesh.Mesh, out *output.Output) {
		for _, c := range istioCSRClusters(m) {
			if got := lookup(t, out, c.Name+"/ca/istio-csr.values.yaml", "app", "tls", "trustDomain"); got != m.Spec.TrustDomain {
				t.Errorf("%s: istio-csr's trustDomain %q, want %q", c.Name, got, m.Spec.TrustDomain)
			}
		}
	},
	rules.Guarantees[7].Mistake: func(t *testing.T, m *mesh.Mesh, out *output.Output) {
		for _, c := range istioCSRClusters(m) {
			got := lookup(t, out, c.Name+"/ca/istio-csr.values.yaml", "app", "istio", "revisions")
			for _, rev := range namespaceRevisions(m) {
				if !slices.Contains(strings.Fields(strings.Trim(got, "[]")), rev) {
					t.Errorf("%s: istio-csr serves revisions %s, not %q", c.Name, got, rev)
				}
			}
		}
	},
}

func TestGuarantees(t *testing.T) {
	if len(guaranteeChecks) != len(rules.Guarantees) {
		t.Fatalf("%d guarantees, %d checks: every guarantee needs a check", len(rules.Guarantees), len(guaranteeChecks))
	}
	for _, ex := range examples(t) {
		m, out, err := compiler.Compile("mesh.yaml", mustRead(t, filepath.Join("../examples", ex, "mesh.yaml")))
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range rules.Guarantees {
			t.Run(ex+"/"+g.Mistake, func(t *testing.T) { guaranteeChecks[g.Mistake](t, m, out) })
		}
	}
}

// values returns the string at keys in the cluster's control-plane values:
// the IstioOperator's spec.values (spec.meshConfig for meshConfig), or the
// istiod chart's values file on the Helm path.
func values(t *testing.T, m *mesh.Mesh, out *output.Output, c mesh.Cluster, keys ...string) string {
	t.Helper()
	if m.UsesHelm() {
		return lookup(t, out, c.Name+"/"+render.HelmDir+"/"+render.IstiodValuesFile, keys...)
	}
	if keys[0] == "meshConfig" {
		return lookup(t, out, c.Name+"/install/istio.yaml", append([]string{"spec"}, keys...)...)
	}
	return lookup(t, out, c.Name+"/install/istio.yaml", append([]string{"spec", "values"}, keys...)...)
}

// lookup returns the string at keys in the rendered YAML file, or "".
func lookup(t *testing.T, out *output.Output, file string, keys ...string) string {
	t.Helper()
	f := out.Lookup(file)
	if f == nil {
		t.Fatalf("%s not rendered", file)
	}
	var v any
	if err := yaml.Unmarshal(f.Data, &v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	return fmt.Sprint(v)
}

// istioCSRClusters are the clusters that run istio-csr: all of a mesh with
// issuer istio-csr, none otherwise.
func istioCSRClusters(m *mesh.Mesh) []mesh.Cluster {
	if m.Spec.CA.Issuer != mesh.IssuerIstioCSR {
		return nil
	}
	return m.Spec.Clusters
}

// namespaceRevisions are the revisions the Mesh's namespaces name.
// namespaceRevisions are the revisions whose istiod the mesh's sidecars
// dial: the one spec.istio installs, and the one each namespace's tag
// points at.
func namespaceRevisions(m *mesh.Mesh) []string {
	revs := []string{cmp.Or(m.Spec.Istio.Revision, "default")}
	for _, n := range m.Spec.Namespaces {
		for _, t := range m.Spec.Istio.Tags {
			if t.Name == cmp.Or(n.Tag, n.Revision) {
				revs = append(revs, t.Revision)
			}
		}
	}
	return revs
}
