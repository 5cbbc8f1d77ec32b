package mesh

import (
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
)

// ReadyRemote reports a remote whose install can be rendered: its primary's
// istiod address is known.
func (p *Placement) ReadyRemote() bool { return p.IsRemote() && !p.AwaitsAddress() }

// RemoteSecret is one `istioctl create-remote-secret` pair: the primary
// Reader watches the API server of cluster Source.
type RemoteSecret struct {
	Reader *Cluster
	Source *Cluster
}

// RemoteSecrets lists every pair the mesh needs. Every primary watches the
// API server of every other cluster for endpoints, so P primaries in an
// N-cluster mesh need P×(N−1) secrets. Order: by reader, then by source, in
// input order.
func RemoteSecrets(m *Mesh) []RemoteSecret {
	primaries := 0
	for i := range m.Spec.Clusters {
		if m.Spec.Clusters[i].IsPrimary() {
			primaries++
		}
	}
	out := make([]RemoteSecret, 0, primaries*max(len(m.Spec.Clusters)-1, 0))
	for i := range m.Spec.Clusters {
		r := &m.Spec.Clusters[i]
		if !r.IsPrimary() {
			continue
		}
		for j := range m.Spec.Clusters {
			if i != j {
				out = append(out, RemoteSecret{Reader: r, Source: &m.Spec.Clusters[j]})
			}
		}
	}
	return out
}

// topology is what meshc derives from the clusters of a Mesh as a whole:
// which primary serves which remote, whether the clusters span several
// networks, which cluster a name means. Load computes it once; validate,
// render, the plan and the conformance suite all read it through Mesh's
// methods, so no two of them decide "is this mesh multi-network"
// differently. It tolerates an invalid mesh (Validate reads it too):
// the first cluster of a duplicated name wins.
type topology struct {
	mesh         *Mesh
	multiNetwork bool
	names        []string // cluster names, in input order
	byName       map[string]*Cluster
	index        map[string]int // position of each name in names (its first)
	remotes      map[string][]*Cluster
	sharing      *sharing
	federation   *federation
	vmGroups     map[string][]*WorkloadGroup
}

func newTopology(m *Mesh) *topology {
	t := &topology{mesh: m, byName: make(map[string]*Cluster, len(m.Spec.Clusters)), index: make(map[string]int, len(m.Spec.Clusters)),
		remotes: map[string][]*Cluster{}}
	networks := map[string]bool{}
	for i := range m.Spec.Clusters {
		c := &m.Spec.Clusters[i]
		t.names = append(t.names, c.Name)
		networks[c.Network] = true
		if _, dup := t.byName[c.Name]; !dup {
			t.byName[c.Name] = c
			t.index[c.Name] = i
		}
		if c.Role == RoleRemote && c.ControlPlane != "" {
			t.remotes[c.ControlPlane] = append(t.remotes[c.ControlPlane], c)
		}
	}
	// VMs sit on networks too: a mesh of one cluster network and one VM
	// network routes through east-west gateways like any other.
	for _, g := range m.Spec.WorkloadGroups {
		networks[g.Network] = true
	}
	t.multiNetwork = len(networks) > 1
	t.sharing = newSharing(m)
	t.federation = newFederation(m)
	t.vmGroups = newVMGroups(m)
	return t
}

// perCluster returns the sharing facts with what each cluster holds.
func (t *topology) perCluster() *sharing {
	t.sharing.perCluster.Do(func() { t.sharing.derivePerCluster(t.mesh, t) })
	return t.sharing
}

// topo returns the mesh's derived facts; Load computes them, so reads from
// parallel renderers never race.
func (m *Mesh) topo() *topology {
	if m.topology == nil {
		m.topology = newTopology(m)
	}
	return m.topology
}

// MultiNetwork reports whether the mesh's clusters and VMs span more than
// one network, which is what makes Istio route through east-west gateways.
// A declared network no cluster or VM sits on is an error (MC013), so this
// is also "more than one network is declared" for every valid mesh.
func (m *Mesh) MultiNetwork() bool { return m.topo().multiNetwork }

// Cluster returns the cluster named name (the first, if the name is
// duplicated), or nil.
func (m *Mesh) Cluster(name string) *Cluster { return m.topo().byName[name] }

// ClusterIndex is the position of the first cluster called name in the
// input, and whether there is one.
func (m *Mesh) ClusterIndex(name string) (int, bool) {
	i, ok := m.topo().index[name]
	return i, ok
}

// Remotes returns the remotes that name primary as their control plane, in
// input order.
func (m *Mesh) Remotes(primary string) []*Cluster { return m.topo().remotes[primary] }

// ClusterNames lists the clusters' names in input order, for messages.
func (m *Mesh) ClusterNames() []string { return slices.Clone(m.topo().names) }

// Placement is one cluster's place in its mesh: the cluster and everything
// derived about it that render, the plan, the artifact table and the
// conformance suite need. It is what the cluster's templates see.
type Placement struct {
	Mesh    *Mesh
	Cluster *Cluster
	// Primary is the primary a remote uses; nil on a primary.
	Primary *Cluster
	// Remotes are the remotes a primary serves, in input order.
	Remotes      []*Cluster
	MultiNetwork bool
}

// Place returns the placement of c, a cluster of m. It is nil for a remote
// whose control plane is not a cluster of the mesh, which Validate rejects
// (MC005).
func (m *Mesh) Place(c *Cluster) *Placement {
	p := &Placement{Mesh: m, Cluster: c, Remotes: m.Remotes(c.Name), MultiNetwork: m.MultiNetwork()}
	if !c.IsPrimary() {
		p.Primary = m.Cluster(c.ControlPlane)
		if p.Primary == nil {
			return nil
		}
	}
	return p
}

// IsPrimary reports whether the cluster runs its own istiod.
func (p *Placement) IsPrimary() bool { return p.Cluster.IsPrimary() }

// IsRemote reports whether the cluster uses its primary's istiod.
func (p *Placement) IsRemote() bool { return !p.Cluster.IsPrimary() }

// UsesHelm reports whether the cluster is installed with Istio's Helm
// charts; UsesIstioctl, with istioctl and IstioOperator files.
func (p *Placement) UsesHelm() bool { return p.Mesh.UsesHelm() }

// UsesIstioctl is the negation of UsesHelm.
func (p *Placement) UsesIstioctl() bool { return !p.Mesh.UsesHelm() }

// HasEastWestGateway reports whether the cluster runs an east-west gateway.
func (p *Placement) HasEastWestGateway() bool { return p.Cluster.EastWestGateway != nil }

// ServesCrossNetwork reports whether the cluster's istiod needs the
// cross-network Gateway: Gateway resources are read by the istiod of the
// cluster they live in, so only primaries of a multi-network mesh hold it; a
// primary's config also drives its remotes' gateways. An ambient mesh has
// none: its east-west gateway carries HBONE (HasAmbientGateway).
func (p *Placement) ServesCrossNetwork() bool { return p.IsPrimary() && p.MultiNetwork && p.Sidecar() }

// AwaitsAddress reports whether the cluster is a remote whose primary's
// istiod address is learned after install (eastWestGateway.learnAddress):
// its control plane cannot be rendered yet.
func (p *Placement) AwaitsAddress() bool { return p.Primary != nil && p.Primary.IstiodAddress() == "" }

// PilotAddress is where a remote reaches its primary's istiod; "" on a
// primary.
func (p *Placement) PilotAddress() string {
	if p.Primary == nil {
		return ""
	}
	return p.Primary.IstiodAddress()
}

// InjectionPath is the path on which a remote's primary istiod learns the
// pod's cluster and network.
func (p *Placement) InjectionPath() string {
	return "/inject/cluster/" + p.Cluster.Name + "/net/" + p.Cluster.Network
}

// InjectionURL is the full webhook URL a remote uses when its primary's
// istiod is reached by hostname; "" otherwise (the webhook then goes through
// the istiod Service, which the remote profile points at the address).
func (p *Placement) InjectionURL() string {
	if p.Primary == nil || p.Primary.IstiodHost() == "" {
		return ""
	}
	return "https://" + net.JoinHostPort(p.Primary.IstiodHost(), "15017") + p.InjectionPath()
}

// CustomHost is the istiod hostname a primary must sign its serving
// certificate for: set when it serves remotes by hostname.
func (p *Placement) CustomHost() string {
	if len(p.Remotes) == 0 {
		return ""
	}
	return p.Cluster.IstiodHost()
}

// ExposesIstiod reports whether the primary exposes istiod through its
// east-west gateway, as the Istio guides do for primaries with remotes or
// VMs.
func (p *Placement) ExposesIstiod() bool {
	return (len(p.Remotes) > 0 || p.ServesVMs()) && p.Cluster.EastWestGateway != nil &&
		(p.Cluster.Istiod == nil || p.Cluster.Istiod.Address == "")
}

// IstiodAddress is where remotes reach this primary's istiod: an explicit
// istiod address wins over the east-west gateway's.
func (c *Cluster) IstiodAddress() string {
	if c.Istiod != nil && c.Istiod.Address != "" {
		return c.Istiod.Address
	}
	if c.EastWestGateway != nil {
		return c.EastWestGateway.Address
	}
	return ""
}

// IstiodHost is the DNS name remotes reach a primary's istiod at, or "" when
// it is reached by IP (or serves no remotes). Istio's remote profile turns a
// hostname remotePilotAddress into an ExternalName Service, which would send
// the injection webhook to port 443 of that name; with a hostname meshc
// points the webhook at the name's 15017 instead, and has istiod put the
// name in its serving certificate so the API server accepts it.
func (c *Cluster) IstiodHost() string {
	addr := c.IstiodAddress()
	if _, err := netip.ParseAddr(addr); addr == "" || err == nil {
		return ""
	}
	return addr
}

// APIServerKey is the form two API server URLs are compared in: the URLs
// name one server when their keys are equal.
func APIServerKey(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	return strings.ToLower(u.Hostname()) + ":" + port + strings.TrimRight(u.EscapedPath(), "/")
}
