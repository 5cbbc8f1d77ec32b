package compiler_test

import (
	"bytes"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/output"
	"meshc.dev/meshc/render"
)

// The rendered output of federated meshes, read back as YAML: what each
// primary's east-west gateways are told, what each control plane trusts,
// what each VM starts with. Expected facts come from the Mesh.

// yamlDocs decodes every document of a rendered file.
func yamlDocs(t *testing.T, f *output.File) []map[string]any {
	t.Helper()
	var docs []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(f.Data))
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			if err.Error() == "EOF" {
				return docs
			}
			t.Fatalf("%s: %v", f.Path, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
}

// get walks doc along keys; nil when a key is missing.
func get(doc any, keys ...string) any {
	for _, k := range keys {
		m, ok := doc.(map[string]any)
		if !ok {
			return nil
		}
		doc = m[k]
	}
	return doc
}

func strs(v any) []string {
	var out []string
	for _, x := range asList(v) {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// rendered is a mesh and its output.
type rendered struct {
	m *mesh.Mesh
	o *output.Output
}

// federatedMeshes are the examples with peers and inline meshes for the
// shapes they do not have: a multi-network primary-remote mesh exporting a
// host outside *.local (no spec.services, so any host may be exported), and
// the same on the Helm path.
func federatedMeshes(t *testing.T) map[string]rendered {
	t.Helper()
	out := map[string]rendered{}
	for _, ex := range examples(t) {
		m, o, err := compiler.Compile(ex+"/mesh.yaml", mustRead(t, "../examples/"+ex+"/mesh.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Spec.Peers) > 0 {
			out[ex] = rendered{m, o}
		}
	}
	for _, installer := range []string{"istioctl", "helm"} {
		doc := fmt.Sprintf(federatedPrimaryRemote, installer, anchorOf(t, "../examples/federation-east/mesh.yaml"))
		m, o, err := compiler.Compile("inline.yaml", []byte(doc))
		if err != nil {
			t.Fatalf("%v\n%s", err, doc)
		}
		out["inline-primary-remote-"+installer] = rendered{m, o}
	}
	return out
}

// federatedPrimaryRemote is a primary-remote mesh on two networks that
// exports a *.local host and one outside it; %s are the installer and the
// peer's trust anchor, indented.
const federatedPrimaryRemote = `apiVersion: meshc.dev/v1alpha1
kind: Mesh
metadata:
  name: inline
spec:
  meshID: north
  topology: primary-remote
  trustDomain: north.example.org
  installer: %s
  istio:
    version: "1.28.0"
  networks:
    - name: network1
    - name: network2
  clusters:
    - name: cluster1
      network: network1
      role: primary
      eastWestGateway:
        address: 192.0.2.10
    - name: cluster2
      network: network2
      role: remote
      controlPlane: cluster1
      eastWestGateway: {}
  peers:
    - meshID: west
      trustDomain: west.example.com
      network: west-network
      gateways:
        - address: 198.51.100.20
      trustAnchor:
        pem: |
%s
      exports:
        - host: cart.shop.svc.cluster.local
          ports:
            - name: grpc
              port: 7070
              protocol: GRPC
        - host: api.north.example.org
          ports:
            - name: tls
              port: 443
              protocol: TLS
`

// anchorOf is the first peer's trust anchor in the Mesh file at p, indented
// for federatedPrimaryRemote.
func anchorOf(t *testing.T, p string) string {
	t.Helper()
	m, err := compiler.Vet(p, mustRead(t, p))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for line := range strings.Lines(m.Spec.Peers[0].TrustAnchor.PEM) {
		b.WriteString("          " + line)
	}
	return strings.TrimRight(b.String(), "\n")
}

// covers reports whether Istio's host match of pattern (a Gateway server
// host: exact, or *.suffix) takes host.
func covers(pattern, host string) bool {
	if suffix, ok := strings.CutPrefix(pattern, "*"); ok {
		return strings.HasSuffix(host, suffix)
	}
	return pattern == host
}

// passthroughServers are, per primary, the hosts of every AUTO_PASSTHROUGH
// server on port 15443 of the Gateways its manifests give the east-west
// gateways, with the file each comes from.
func passthroughServers(t *testing.T, o *output.Output) map[string][][]string {
	t.Helper()
	out := map[string][][]string{}
	for _, f := range o.Files {
		cluster, rest, _ := strings.Cut(f.Path, "/")
		if !strings.HasPrefix(rest, render.ManifestsDir+"/") || !strings.HasSuffix(f.Path, ".yaml") {
			continue
		}
		for _, doc := range yamlDocs(t, &f) {
			if doc["apiVersion"] != "networking.istio.io/v1" || doc["kind"] != "Gateway" ||
				get(doc, "spec", "selector", "istio") != "eastwestgateway" {
				continue
			}
			for _, srv := range asList(get(doc, "spec", "servers")) {
				if fmt.Sprint(get(srv, "port", "number")) == "15443" && get(srv, "tls", "mode") == "AUTO_PASSTHROUGH" {
					out[cluster] = append(out[cluster], strs(get(srv, "hosts")))
				}
			}
		}
	}
	return out
}

// TestPassthroughServersDoNotOverlap: on every primary of a federated mesh,
// no two AUTO_PASSTHROUGH servers on the east-west gateways' 15443 take one
// host (istiod would give the listener two filter chains with one SNI match,
// and Envoy rejects the whole listener), and one of them takes every host
// the mesh exports.
func TestPassthroughServersDoNotOverlap(t *testing.T) {
	for name, r := range federatedMeshes(t) {
		m := r.m
		servers := passthroughServers(t, r.o)
		for _, c := range m.Spec.Clusters {
			if !c.IsPrimary() {
				continue
			}
			srvs := servers[c.Name]
			for i := range srvs {
				for j := range i {
					for _, a := range srvs[i] {
						for _, b := range srvs[j] {
							if covers(a, b) || covers(b, a) {
								t.Errorf("%s: %s: two 15443 AUTO_PASSTHROUGH servers take %s and %s: Envoy rejects the listener", name, c.Name, a, b)
							}
						}
					}
				}
			}
			for _, h := range m.ExportedHosts() {
				n := 0
				for _, s := range srvs {
					if slices.ContainsFunc(s, func(p string) bool { return covers(p, h) }) {
						n++
					}
				}
				if n != 1 {
					t.Errorf("%s: %s: %d servers on 15443 pass exported host %s, want 1", name, c.Name, n, h)
				}
			}
		}
	}
}

// meshConfigs are, by cluster, the meshConfig each control plane is
// installed with: the IstioOperator's spec.meshConfig or the istiod chart's
// meshConfig.
func meshConfigs(t *testing.T, m *mesh.Mesh, o *output.Output) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, c := range m.Spec.Clusters {
		for _, p := range []string{path.Join(c.Name, render.InstallDir, render.ControlPlaneFile), path.Join(c.Name, render.HelmDir, render.IstiodValuesFile)} {
			f := o.Lookup(p)
			if f == nil {
				continue
			}
			for _, doc := range yamlDocs(t, f) {
				mc := get(doc, "spec", "meshConfig")
				if mc == nil {
					mc = get(doc, "meshConfig")
				}
				if m, ok := mc.(map[string]any); ok {
					out[c.Name] = m
				}
			}
		}
		if out[c.Name] == nil && c.IsPrimary() {
			t.Fatalf("%s: no mesh config rendered", c.Name)
		}
	}
	return out
}

// TestFederationKeepsIdentitiesApart: every control plane of a federated
// mesh trusts each peer's root for the peer's trust domain only, and no
// trust domain alias names a peer: an alias would have istiod rewrite every
// AuthorizationPolicy principal to match the peer's identities too.
func TestFederationKeepsIdentitiesApart(t *testing.T) {
	for name, r := range federatedMeshes(t) {
		for cluster, mc := range meshConfigs(t, r.m, r.o) {
			aliases := strs(mc["trustDomainAliases"])
			for _, p := range r.m.Spec.Peers {
				if slices.Contains(aliases, p.TrustDomain) {
					t.Errorf("%s: %s: trustDomainAliases %v names peer %s's trust domain", name, cluster, aliases, p.MeshID)
				}
				found := false
				for _, ca := range asList(mc["caCertificates"]) {
					if strings.TrimSpace(fmt.Sprint(get(ca, "pem"))) == strings.TrimSpace(p.TrustAnchor.PEM) {
						found = slices.Equal(strs(get(ca, "trustDomains")), []string{p.TrustDomain})
					}
				}
				if !found {
					t.Errorf("%s: %s: no caCertificates entry with peer %s's root for exactly its trust domain %s", name, cluster, p.MeshID, p.TrustDomain)
				}
			}
		}
	}
}

// proxyMetadataOf is meshConfig.defaultConfig.proxyMetadata.
func proxyMetadataOf(mc map[string]any) map[string]string {
	out := map[string]string{}
	if m, ok := get(mc, "defaultConfig", "proxyMetadata").(map[string]any); ok {
		for k, v := range m {
			out[k] = fmt.Sprint(v)
		}
	}
	return out
}

// clusterEnv reads cluster.env: KEY=value lines, values single-quoted as
// Istio's generator quotes them.
func clusterEnv(t *testing.T, f *output.File) map[string]string {
	t.Helper()
	out := map[string]string{}
	for line := range strings.Lines(string(f.Data)) {
		k, v, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "=")
		if !ok {
			t.Fatalf("%s: %q is no KEY=value line", f.Path, line)
		}
		if uq, ok := strings.CutPrefix(v, "'"); ok {
			v = strings.ReplaceAll(strings.TrimSuffix(uq, "'"), `'"'"'`, "'")
		}
		out[k] = v
	}
	return out
}

// TestVMsStartFromMeshProxyMetadata: a VM's mesh.yaml and cluster.env hold
// every proxyMetadata setting of its cluster's control plane, as Istio's
// generator copies them (the peers' roots reach the VM only with
// PROXY_CONFIG_XDS_AGENT; imported hosts resolve on 1.24 only with
// ISTIO_META_DNS_AUTO_ALLOCATE).
func TestVMsStartFromMeshProxyMetadata(t *testing.T) {
	inputs := map[string][]byte{}
	for _, ex := range examples(t) {
		inputs[ex] = mustRead(t, "../examples/"+ex+"/mesh.yaml")
	}
	// A federated mesh of one network whose VMs share it.
	east := string(mustRead(t, "../examples/federation-east/mesh.yaml"))
	inputs["federation-east with VMs"] = []byte(strings.Replace(east, "\n  peers:\n",
		"\n  workloadGroups:\n    - name: web\n      namespace: bookinfo\n      network: east-network\n      cluster: east1\n  peers:\n", 1))
	seen := 0
	for _, ex := range slices.Sorted(maps.Keys(inputs)) {
		m, o, err := compiler.Compile("mesh.yaml", inputs[ex])
		if err != nil {
			t.Fatalf("%s: %v", ex, err)
		}
		mcs := meshConfigs(t, m, o)
		for _, g := range m.Spec.WorkloadGroups {
			want := proxyMetadataOf(mcs[g.Cluster])
			if len(want) == 0 {
				continue
			}
			seen++
			dir := path.Join(g.Cluster, mesh.VMDir, g.Namespace, g.Name)
			var meshYAML map[string]any
			if err := yaml.Unmarshal(o.Lookup(path.Join(dir, "mesh.yaml")).Data, &meshYAML); err != nil {
				t.Fatal(err)
			}
			got := proxyMetadataOf(meshYAML)
			env := clusterEnv(t, o.Lookup(path.Join(dir, "cluster.env")))
			for _, k := range slices.Sorted(maps.Keys(want)) {
				if got[k] != want[k] {
					t.Errorf("%s: %s mesh.yaml proxyMetadata %s=%q, want the control plane's %q", ex, dir, k, got[k], want[k])
				}
				if env[k] != want[k] {
					t.Errorf("%s: %s cluster.env %s=%q, want the control plane's %q", ex, dir, k, env[k], want[k])
				}
			}
		}
	}
	if seen == 0 {
		t.Fatal("no example has VMs in a mesh whose control plane sets proxyMetadata")
	}
}

// meshAt is the Mesh file at p with its Istio version set to 1.minor.0.
func meshAt(t *testing.T, p string, minor int) []byte {
	t.Helper()
	data := string(mustRead(t, p))
	i := strings.Index(data, "    version: \"")
	if i < 0 {
		t.Fatalf("%s names no Istio version", p)
	}
	j := i + strings.Index(data[i:], "\"\n") + 2
	return []byte(data[:i] + fmt.Sprintf("    version: \"1.%d.0\"\n", minor) + data[j:])
}

// TestIstioChangeBoundaries checks every entry of mesh.IstioChanges on
// both sides of its boundary: the last release before the change and the
// first with it. An entry without a check here fails the test.
func TestIstioChangeBoundaries(t *testing.T) {
	checks := map[string]func(t *testing.T, minor int, affected bool){
		mesh.ChangeNoOperator: func(t *testing.T, minor int, affected bool) {
			_, err := compiler.Vet("mesh.yaml", meshAt(t, "../examples/helm-primary-remote/mesh.yaml", minor))
			if (err == nil) != affected {
				t.Errorf("1.%d: Vet = %v; meshc targets exactly the releases without the in-cluster operator", minor, err)
			}
		},
		mesh.ChangeRemovedValues: func(t *testing.T, minor int, _ bool) {
			_, o, err := compiler.Compile("mesh.yaml", meshAt(t, "../examples/helm-primary-remote-multi-network/mesh.yaml", minor))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range o.Files {
				if !strings.Contains(f.Path, "/"+render.HelmDir+"/") {
					continue
				}
				for _, doc := range yamlDocs(t, &f) {
					for _, p := range removedValues {
						if has(doc, p) {
							t.Errorf("1.%d: %s sets %s", minor, f.Path, strings.Join(p, "."))
						}
					}
				}
			}
		},
		mesh.ChangeEndpointSlices: func(t *testing.T, minor int, _ bool) {
			// The same values on both sides: only the version differs.
			_, a, err := compiler.Compile("mesh.yaml", meshAt(t, "../examples/helm-primary-remote/mesh.yaml", minor))
			if err != nil {
				t.Fatal(err)
			}
			_, b, err := compiler.Compile("mesh.yaml", meshAt(t, "../examples/helm-primary-remote/mesh.yaml", minor+1))
			if err != nil {
				t.Fatal(err)
			}
			v := func(f *output.File, m int) string {
				return strings.ReplaceAll(string(f.Data), fmt.Sprintf("1.%d.0", m), "VERSION")
			}
			for _, f := range a.Files {
				if strings.Contains(f.Path, "/"+render.HelmDir+"/") && v(&f, minor) != v(b.Lookup(f.Path), minor+1) {
					t.Errorf("%s differs between 1.%d and 1.%d beyond the version", f.Path, minor, minor+1)
				}
			}
		},
		mesh.ChangeIPv6PilotAddress: func(t *testing.T, minor int, affected bool) {
			data := strings.Replace(string(meshAt(t, "../examples/primary-remote/mesh.yaml", minor)), "address: 192.0.2.10", "address: 2001:db8::10", 1)
			_, err := compiler.Vet("mesh.yaml", []byte(data))
			if got := err != nil && strings.Contains(err.Error(), "[MC014]"); got != affected {
				t.Errorf("1.%d: IPv6 istiod address refused (MC014): %v, want %v (%v)", minor, got, affected, err)
			}
		},
		mesh.ChangeAmbientBeta: func(t *testing.T, minor int, affected bool) {
			_, err := compiler.Vet("mesh.yaml", meshAt(t, "../examples/ambient-multi-network/mesh.yaml", minor))
			if got := err != nil && strings.Contains(err.Error(), "[MC086]"); got != affected {
				t.Errorf("1.%d: ambient refused (MC086): %v, want %v (%v)", minor, got, affected, err)
			}
		},
		mesh.ChangeIPAutoallocate: func(t *testing.T, minor int, affected bool) {
			m, o, err := compiler.Compile("mesh.yaml", meshAt(t, "../examples/federation-south/mesh.yaml", minor))
			if err != nil {
				t.Fatal(err)
			}
			want := map[bool]string{true: "true"}[affected]
			for cluster, mc := range meshConfigs(t, m, o) {
				if got := proxyMetadataOf(mc)["ISTIO_META_DNS_AUTO_ALLOCATE"]; got != want {
					t.Errorf("1.%d: %s: proxyMetadata ISTIO_META_DNS_AUTO_ALLOCATE=%q, want %q", minor, cluster, got, want)
				}
			}
			for _, g := range m.Spec.WorkloadGroups {
				env := clusterEnv(t, o.Lookup(path.Join(g.Cluster, mesh.VMDir, g.Namespace, g.Name, "cluster.env")))
				if got := env["ISTIO_META_DNS_AUTO_ALLOCATE"]; got != want {
					t.Errorf("1.%d: VMs of %s: cluster.env ISTIO_META_DNS_AUTO_ALLOCATE=%q, want %q", minor, g.Name, got, want)
				}
			}
		},
	}
	for _, c := range mesh.IstioChanges {
		check := checks[c.Name]
		if check == nil {
			t.Errorf("IstioChanges entry %q (%s) has no boundary check", c.Name, c.Releases())
			continue
		}
		boundary := c.Since
		if c.Until != 0 {
			boundary = c.Until
		}
		for _, minor := range []int{boundary - 1, boundary} {
			t.Run(c.Name+"/1."+strconv.Itoa(minor), func(t *testing.T) { check(t, minor, c.Affects(minor)) })
		}
	}
}
