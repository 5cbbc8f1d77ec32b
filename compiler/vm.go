package compiler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"meshc.dev/meshc/templates"
)

// WorkloadGroup is a set of virtual machines running one application: what
// Istio's WorkloadGroup describes, plus where the VMs register.
type WorkloadGroup struct {
	Name           string            `json:"name"`
	Namespace      string            `json:"namespace"`
	ServiceAccount string            `json:"serviceAccount"`
	Network        string            `json:"network"`
	Cluster        string            `json:"cluster"`
	Ports          []WorkloadPort    `json:"ports,omitempty"`
	Labels         map[string]string `json:"labels,omitempty"`
	Probe          *Probe            `json:"probe,omitempty"`
	Instances      []VMInstance      `json:"instances,omitempty"`
}

// WorkloadPort is a port the VMs serve, named after the Service port it
// backs (WorkloadEntry.ports).
type WorkloadPort struct {
	Name string `json:"name"`
	Port int    `json:"port"`
}

// Probe is the readiness check of a group's VMs (Istio's ReadinessProbe).
type Probe struct {
	HTTPGet             *HTTPGetProbe   `json:"httpGet,omitempty"`
	TCPSocket           *TCPSocketProbe `json:"tcpSocket,omitempty"`
	InitialDelaySeconds int             `json:"initialDelaySeconds,omitempty"`
	PeriodSeconds       int             `json:"periodSeconds,omitempty"`
	TimeoutSeconds      int             `json:"timeoutSeconds,omitempty"`
	SuccessThreshold    int             `json:"successThreshold,omitempty"`
	FailureThreshold    int             `json:"failureThreshold,omitempty"`
}

// HTTPGetProbe checks an HTTP path on the VM.
type HTTPGetProbe struct {
	Path   string `json:"path"`
	Port   int    `json:"port"`
	Scheme string `json:"scheme"`
}

// TCPSocketProbe checks that a port of the VM accepts connections.
type TCPSocketProbe struct {
	Port int `json:"port"`
}

// VMInstance is a VM of a group with a known address: a WorkloadEntry.
type VMInstance struct {
	Name    string `json:"name"`
	Address string `json:"address"`
}

// Names and places of what a VM needs. The sidecar reads these five files
// (`istioctl x workload entry configure` writes the same set): render writes
// VMRenderedFiles, the plan adds the root certificate and the token, the one
// file only a live cluster can give.
const (
	// VMDir holds, in the directory of the cluster a group registers with,
	// one directory per group: vm/<namespace>/<name>/.
	VMDir = "vm"
	// WorkloadGroupsFile, in the cluster's manifests/, holds each group's
	// namespace (when the mesh shares none), service account, WorkloadGroup
	// and WorkloadEntries.
	WorkloadGroupsFile = "workload-groups.yaml"
	VMRootCertFile     = "root-cert.pem"
	VMTokenFile        = "istio-token"
	// VMInstallScript is run on each VM, from the group's gathered files.
	VMInstallScript = "install.sh"
	// IstiodHost is the name the VM's sidecar dials istiod at; the hosts
	// file maps it to the address istiod is exposed on.
	IstiodHost = "istiod.istio-system.svc"
	// TokenAudience is the audience istiod's CA accepts tokens for.
	TokenAudience = "istio-ca"
)

// VMFile is one file render writes into a group's directory.
type VMFile struct {
	Name     string
	Template string
	Mode     fs.FileMode
}

// VMRenderedFiles is the one table of per-group files: render writes them,
// the plan gathers them, the conformance suite compares them with Istio's
// own generator's. The root certificate and token are added by the plan.
var VMRenderedFiles = []VMFile{
	{Name: "cluster.env", Template: "vm-cluster.env.tmpl"},
	{Name: "mesh.yaml", Template: "vm-mesh.yaml.tmpl"},
	{Name: "hosts", Template: "vm-hosts.tmpl"},
	{Name: VMInstallScript, Template: "vm-install.sh.tmpl", Mode: 0o755},
}

// Dir is the group's directory in the rendered tree.
func (g *WorkloadGroup) Dir() string { return path.Join(g.Cluster, VMDir, g.Namespace, g.Name) }

// AutoRegister reports whether the group's VMs create their own
// WorkloadEntries when they connect: only a group without static
// instances, so no VM is registered twice.
func (g *WorkloadGroup) AutoRegister() bool { return len(g.Instances) == 0 }

// newVMGroups maps cluster names to the groups that register with them.
func newVMGroups(m *Mesh) map[string][]*WorkloadGroup {
	out := map[string][]*WorkloadGroup{}
	for i := range m.Spec.WorkloadGroups {
		g := &m.Spec.WorkloadGroups[i]
		out[g.Cluster] = append(out[g.Cluster], g)
	}
	return out
}

// WorkloadGroups are the groups that register with the cluster, in input
// order.
func (m *Mesh) WorkloadGroups(cluster string) []*WorkloadGroup { return m.topo().vmGroups[cluster] }

// WorkloadGroups: see Mesh.WorkloadGroups.
func (p *Placement) WorkloadGroups() []*WorkloadGroup { return p.Mesh.WorkloadGroups(p.Cluster.Name) }

// HasWorkloadGroups reports whether VMs register with the cluster.
func (p *Placement) HasWorkloadGroups() bool { return len(p.WorkloadGroups()) > 0 }

// ServesVMs reports whether VMs reach this primary's istiod, through its
// east-west gateway or istiod.address.
func (p *Placement) ServesVMs() bool { return p.IsPrimary() && p.HasWorkloadGroups() }

// SharesNamespace reports whether the mesh's shared namespaces already
// create the group's namespace in its cluster; otherwise
// workload-groups.yaml does.
func (p *Placement) SharesNamespace(g *WorkloadGroup) bool {
	return slices.ContainsFunc(p.SharedNamespaces(), func(n *SharedNamespace) bool { return n.Name == g.Namespace })
}

// VMNamespaces are the namespaces workload-groups.yaml creates: those of the
// cluster's groups that the mesh's shared namespaces do not, each once.
func (p *Placement) VMNamespaces() []string {
	var out []string
	for _, g := range p.WorkloadGroups() {
		if !p.SharesNamespace(g) && !slices.Contains(out, g.Namespace) {
			out = append(out, g.Namespace)
		}
	}
	return out
}

// VMServiceAccount is a service account the cluster's groups take their
// identity from.
type VMServiceAccount struct{ Name, Namespace string }

// VMServiceAccounts are the service accounts of the cluster's groups, each
// once: groups may share one.
func (p *Placement) VMServiceAccounts() []VMServiceAccount {
	var out []VMServiceAccount
	for _, g := range p.WorkloadGroups() {
		if sa := (VMServiceAccount{g.ServiceAccount, g.Namespace}); !slices.Contains(out, sa) {
			out = append(out, sa)
		}
	}
	return out
}

// VMView is what a group's templates see.
type VMView struct {
	Mesh    *Mesh
	Cluster *Cluster
	Group   *WorkloadGroup
}

// VMView returns the view of g, a group of the placement's cluster.
func (p *Placement) VMView(g *WorkloadGroup) *VMView {
	return &VMView{Mesh: p.Mesh, Cluster: p.Cluster, Group: g}
}

// IstiodHost, RootCertFile and TokenFile are constants, for templates.
func (*VMView) IstiodHost() string { return IstiodHost }

// RootCertFile: see IstiodHost.
func (*VMView) RootCertFile() string { return VMRootCertFile }

// TokenFile: see IstiodHost.
func (*VMView) TokenFile() string { return VMTokenFile }

// IstiodAddress is the IP the VMs reach istiod at: the cluster's istiod
// address (MC050 makes it an IP).
func (v *VMView) IstiodAddress() string { return v.Cluster.IstiodAddress() }

// Canonical returns the group's canonical service and revision, as Istio
// derives them from its labels (pkg/kube/labels.CanonicalService).
func (g *WorkloadGroup) Canonical() (service, revision string) {
	service, revision = g.Name, "latest"
	for _, k := range []string{"service.istio.io/canonical-name", "app.kubernetes.io/name", "app"} {
		if v, ok := g.Labels[k]; ok {
			service = v
			break
		}
	}
	for _, k := range []string{"service.istio.io/canonical-revision", "app.kubernetes.io/version", "version"} {
		if v, ok := g.Labels[k]; ok {
			revision = v
			break
		}
	}
	return service, revision
}

// ProxyMetadata is the environment of the VM's sidecar: what Istio's
// generator puts in mesh.yaml's proxyMetadata for a WorkloadGroup of this
// mesh (the control plane's own proxyMetadata, then the workload's).
func (v *VMView) ProxyMetadata() map[string]string {
	g, m := v.Group, v.Mesh
	md := map[string]string{}
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

// SortedLabels are the group's labels as sorted pairs, for templates.
func (g *WorkloadGroup) SortedLabels() []struct{ Key, Value string } {
	out := make([]struct{ Key, Value string }, 0, len(g.Labels))
	for _, k := range slices.Sorted(maps.Keys(g.Labels)) {
		out = append(out, struct{ Key, Value string }{k, g.Labels[k]})
	}
	return out
}

// renderVMFiles writes VMRenderedFiles for every group that registers with
// the placement's cluster.
func renderVMFiles(p *Placement) ([]File, error) {
	if !p.ServesVMs() {
		return nil, nil
	}
	var files []File
	var buf bytes.Buffer
	for _, g := range p.WorkloadGroups() {
		v := p.VMView(g)
		for _, f := range VMRenderedFiles {
			buf.Reset()
			if err := templates.Set.ExecuteTemplate(&buf, f.Template, v); err != nil {
				return nil, fmt.Errorf("cluster %q: workload group %s/%s: rendering %s: %w", p.Cluster.Name, g.Namespace, g.Name, f.Name, err)
			}
			files = append(files, File{Path: path.Join(g.Dir(), f.Name), Data: bytes.Clone(buf.Bytes()), Mode: f.Mode})
		}
	}
	return files, nil
}

// VMBundleDir is where the plan gathers a group's files, under CERTS_DIR:
// the token is a credential, so it stays with the CA keys, out of the
// rendered tree (which is often committed).
func (g *WorkloadGroup) VMBundleDir() string {
	return "${" + CertsDirVar + "}/" + path.Join(g.Cluster, VMDir, g.Namespace, g.Name)
}

// vmFileSteps gathers, per group, what its VMs need in one directory: the
// rendered files, the mesh's root certificate from `meshc certs`, and a
// token for the group's service account, the one file only the cluster
// can give (audience istio-ca, one hour: it only bootstraps the sidecar,
// which then renews its certificate itself). Names are DNS labels, safe
// inside double quotes.
func vmFileSteps(placements []*Placement) []Step {
	var steps []Step
	for _, p := range placements {
		if p == nil || !p.ServesVMs() {
			continue
		}
		c := p.Cluster
		for _, g := range p.WorkloadGroups() {
			dir := g.VMBundleDir()
			var files, applies []string
			for _, f := range VMRenderedFiles {
				rel := path.Join(g.Dir(), f.Name)
				files = append(files, templates.Shell(rel))
				applies = append(applies, rel)
			}
			steps = append(steps, Step{Cluster: c.Name, Context: c.Context, applies: applies, Command: fmt.Sprintf(
				`install -d -m 0700 "%[1]s" && cp %[2]s "${%[3]s}/%[4]s" "%[1]s/" && kubectl --context=%[5]s -n %[6]s create token %[7]s --audience=%[8]s --duration=1h > "%[1]s/%[9]s"`,
				dir, strings.Join(files, " "), CertsDirVar, VMRootCertFile, templates.Shell(c.Context),
				templates.Shell(g.Namespace), templates.Shell(g.ServiceAccount), TokenAudience, VMTokenFile)})
		}
	}
	return steps
}

// vmDetails are the lines the mesh's picture gives a primary for the VM
// groups that register with it: the picture has no VM nodes, so a network
// of VMs only would otherwise look empty for no reason. Past two groups,
// one line counts them, so the picture stays readable at any size.
func vmDetails(m *Mesh, c *Cluster) []string {
	groups := m.WorkloadGroups(c.Name)
	if len(groups) > 2 {
		var networks []string
		for _, g := range groups {
			if !slices.Contains(networks, g.Network) {
				networks = append(networks, g.Network)
			}
		}
		return []string{fmt.Sprintf("%d VM groups on %s", len(groups), strings.Join(networks, ", "))}
	}
	var out []string
	for _, g := range groups {
		out = append(out, fmt.Sprintf("VMs %s/%s on %s", g.Namespace, g.Name, g.Network))
	}
	return out
}
