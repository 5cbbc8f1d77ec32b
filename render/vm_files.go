package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/output"
	"meshc.dev/meshc/templates"
)

// What a VM of a group is given: the files Istio's generator writes, derived
// from the Mesh as the generator derives them from a cluster.

// VMView is what a group's templates see.
type VMView struct {
	Mesh    *mesh.Mesh
	Cluster *mesh.Cluster
	Group   *mesh.WorkloadGroup
}

// NewVMView returns the view of g, a group of the placement's cluster.
func NewVMView(p *mesh.Placement, g *mesh.WorkloadGroup) *VMView {
	return &VMView{Mesh: p.Mesh, Cluster: p.Cluster, Group: g}
}

// IstiodHost is the name the VM's sidecar dials istiod at (its revision's
// Service); the hosts file maps it to the address istiod is exposed on.
func (v *VMView) IstiodHost() string { return v.Mesh.IstiodHost() }

// RootCertFile and TokenFile are constants, for templates.
func (*VMView) RootCertFile() string { return VMRootCertFile }

// TokenFile: see RootCertFile.
func (*VMView) TokenFile() string { return VMTokenFile }

// IstiodAddress is the IP the VMs reach istiod at: the cluster's istiod
// address (MC050 makes it an IP).
func (v *VMView) IstiodAddress() string { return v.Cluster.IstiodAddress() }

// ProxyMetadata is the environment of the VM's sidecar: what Istio's
// generator puts in mesh.yaml's proxyMetadata for a WorkloadGroup of this
// mesh (the control plane's own proxyMetadata, then the workload's).
func (v *VMView) ProxyMetadata() map[string]string {
	g, m := v.Group, v.Mesh
	md := map[string]string{}
	for _, e := range m.ProxyMetadata() {
		md[e.Name] = e.Value
	}
	svc, rev := g.Canonical()
	labels := maps.Clone(g.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels["service.istio.io/canonical-name"], labels["service.istio.io/canonical-revision"] = svc, rev
	js, _ := json.Marshal(labels) // a map of strings always marshals
	md["CANONICAL_SERVICE"], md["CANONICAL_REVISION"] = svc, rev
	md["POD_NAMESPACE"] = g.Namespace
	md["SERVICE_ACCOUNT"] = g.ServiceAccount
	md["TRUST_DOMAIN"] = m.Spec.TrustDomain
	md["ISTIO_META_CLUSTER_ID"] = g.Cluster
	md["ISTIO_META_MESH_ID"] = m.Spec.MeshID
	md["ISTIO_META_NETWORK"] = g.Network
	if ports := v.podPorts(); ports != "" {
		md["ISTIO_META_POD_PORTS"] = ports
	}
	md["ISTIO_META_WORKLOAD_NAME"] = g.Name
	md["ISTIO_METAJSON_LABELS"] = string(js)
	// DNS proxying on the VM, as the generator's --capture-dns default:
	// the VM resolves the mesh's services without cluster DNS.
	md["ISTIO_META_DNS_CAPTURE"] = "true"
	if g.AutoRegister() {
		md["ISTIO_META_AUTO_REGISTER_GROUP"] = g.Name
	}
	return md
}

// podPorts is ISTIO_META_POD_PORTS: the ports as pod container ports, by
// name.
func (v *VMView) podPorts() string {
	type podPort struct {
		Name          string `json:"name"`
		ContainerPort int    `json:"containerPort"`
		Protocol      string `json:"protocol"`
	}
	var out []podPort
	for _, p := range v.Group.Ports {
		out = append(out, podPort{Name: p.Name, ContainerPort: p.Port})
	}
	if len(out) == 0 {
		return ""
	}
	slices.SortFunc(out, func(a, b podPort) int { return strings.Compare(a.Name, b.Name) })
	js, _ := json.Marshal(out)
	return string(js)
}

// ClusterEnv is cluster.env: the sidecar's metadata and the agent's
// traffic capture settings, one KEY=value line each, sorted, quoted as
// Istio's generator quotes them.
func (v *VMView) ClusterEnv() string {
	g := v.Group
	env := v.ProxyMetadata()
	inbound := "*"
	if len(g.Ports) > 0 {
		ports := make([]string, len(g.Ports))
		for i, p := range g.Ports {
			ports[i] = strconv.Itoa(p.Port)
		}
		inbound = strings.Join(ports, ",")
	}
	env["ISTIO_INBOUND_PORTS"] = inbound
	env["ISTIO_NAMESPACE"] = g.Namespace
	env["ISTIO_SERVICE"] = g.Name + "." + g.Namespace
	env["ISTIO_SERVICE_CIDR"] = "*"
	// ssh, Prometheus, the agent's health and status ports.
	env["ISTIO_LOCAL_EXCLUDE_PORTS"] = "22,15090,15021,15020"
	env["SERVICE_ACCOUNT"] = g.ServiceAccount
	if v.Mesh.Revisioned() {
		// The agent asks istiod's default Service for certificates unless
		// told otherwise; beside a revision it is that revision's, as
		// istioctl x workload entry configure --revision writes.
		env["CA_ADDR"] = v.Mesh.IstiodHost() + ":15012"
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(env)) {
		fmt.Fprintf(&b, "%s=%s\n", k, envQuote(env[k]))
	}
	return b.String()
}

// envSafe is what Istio's shellescape leaves unquoted. Its class reads
// `[^\\w@%+=:,./-]` in a raw string, so only a backslash and the letter w
// count as word characters: nearly every value is quoted. cluster.env must
// match the generator byte for byte, so meshc quotes the same way.
var envSafe = regexp.MustCompile(`^[\\w@%+=:,./-]+$`)

func envQuote(s string) string {
	if s != "" && envSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// MetadataEntries are ProxyMetadata as sorted key/value pairs, for
// templates.
func (v *VMView) MetadataEntries() []struct{ Key, Value string } {
	md := v.ProxyMetadata()
	out := make([]struct{ Key, Value string }, 0, len(md))
	for _, k := range slices.Sorted(maps.Keys(md)) {
		out = append(out, struct{ Key, Value string }{k, md[k]})
	}
	return out
}

// renderVMFiles writes the catalogue's group files for every group that registers with
// the placement's cluster.
func renderVMFiles(p *mesh.Placement) ([]output.File, error) {
	if !p.ServesVMs() {
		return nil, nil
	}
	var files []output.File
	var buf bytes.Buffer
	for _, g := range p.WorkloadGroups() {
		v := NewVMView(p, g)
		for _, f := range GroupFiles() {
			buf.Reset()
			if err := templates.Set.ExecuteTemplate(&buf, f.Template, v); err != nil {
				return nil, fmt.Errorf("cluster %q: workload group %s/%s: rendering %s: %w", p.Cluster.Name, g.Namespace, g.Name, f.Name, err)
			}
			files = append(files, output.File{Path: path.Join(g.Dir(), f.Name), Data: bytes.Clone(buf.Bytes()), Mode: f.Mode})
		}
	}
	return files, nil
}
