package mesh

import (
	"maps"
	"path"
	"slices"
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

// VMDir holds, in the directory of the cluster a group registers with,
// one directory per group: vm/<namespace>/<name>/. The sidecar reads five
// files (`istioctl x workload entry configure` writes the same set): render
// writes the catalogue's group files there, the plan adds the root
// certificate and the token, the one file only a live cluster can give.
const VMDir = "vm"

// Dir is the group's directory in the rendered tree.
func (g *WorkloadGroup) Dir() string { return path.Join(g.Cluster, VMDir, g.Namespace, g.Name) }

// AutoRegister reports whether the group's VMs create their own
// WorkloadEntries when they connect: only a group without static
// instances, so no VM is registered twice.
func (g *WorkloadGroup) AutoRegister() bool { return len(g.Instances) == 0 }

// HealthChecked reports whether istiod gates the group's WorkloadEntries on
// their VMs' probe: a group with instances and a probe. Istio checks only
// auto-registered entries and those annotated
// proxy.istio.io/health-checks-enabled, whose VM names its entry
// (ISTIO_META_WORKLOAD_ENTRY); without both the probe is never run against
// traffic, and a failing VM keeps receiving it.
func (g *WorkloadGroup) HealthChecked() bool { return len(g.Instances) > 0 && g.Probe != nil }

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

// SortedLabels are the group's labels as sorted pairs, for templates.
func (g *WorkloadGroup) SortedLabels() []struct{ Key, Value string } {
	out := make([]struct{ Key, Value string }, 0, len(g.Labels))
	for _, k := range slices.Sorted(maps.Keys(g.Labels)) {
		out = append(out, struct{ Key, Value string }{k, g.Labels[k]})
	}
	return out
}
