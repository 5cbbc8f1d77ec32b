package conformance

import (
	"cmp"
	"errors"
	"fmt"
	goruntime "runtime"
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/test"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
)

// Scenario is one behavioural case: what every cluster holds once the
// install has run, the proxies that ask their istiod for endpoints, and what
// each must be sent. New features (shared services, federation, VMs, another
// install path) add objects to clusters and proxies with expectations: a new
// Scenario, not a new harness.
type Scenario struct {
	Name     string
	Clusters []*ClusterState
	Proxies  []*Proxy
	// Facts are what the mesh should look like to istiod, used only to say
	// which file is at fault when a proxy gets the wrong endpoints.
	Facts Facts
	// DualStack gives every proxy an IPv6 address besides its IPv4 one: in
	// a mesh whose gateways have IPv6 addresses the clusters run both
	// families (istiod sends a proxy only gateways of a family it has).
	DualStack bool
}

// ClusterState is what one cluster's API server holds.
type ClusterState struct {
	Name string
	// Objects are Kubernetes objects and Istio config. istiod reads Istio
	// config only from its own cluster.
	Objects []Object
	// Istiod is the control plane running in the cluster; nil on remotes.
	Istiod *Istiod
	// NetworkFile is the file that decides which network the cluster's
	// workloads are on, for findings.
	NetworkFile string
	// GatewayFile is the file the cluster's east-west gateway comes from
	// ("" if it has none), for findings.
	GatewayFile string
	// PodLabels are labels the injector adds to the cluster's pods.
	PodLabels map[string]string
	// ServesGatewayAPI is set when the API server has the Gateway API's
	// CRDs (the plan installs them), so istiod reads its Gateways.
	ServesGatewayAPI bool
}

// Object is one object in a cluster and the rendered file it comes from,
// relative to the output directory; File is "" for what the harness deploys
// itself (the sample service, load balancer addresses).
type Object struct {
	// Object is a Kubernetes object; Config an Istio config object (one of
	// the two is set).
	Object runtime.Object
	Config *config.Config
	File   string
}

// Istiod is a primary's control plane: the cluster ID it gives its own
// cluster, its mesh config and the other clusters it reads.
type Istiod struct {
	ClusterID     string
	ClusterIDFile string
	// Env is the discovery container's environment (its feature flags).
	Env        map[string]string
	MeshConfig *meshconfig.MeshConfig
	Reads      []RemoteRead
	// ReadsFrom names where remote secrets for this istiod are declared (a
	// directory or plan.sh), for findings about a missing one.
	ReadsFrom string
}

// RemoteRead is one remote secret istiod acts on: it reads the API server
// of cluster Source and calls it ClusterID (the secret's key).
type RemoteRead struct {
	ClusterID string
	Source    string
	File      string
}

// Proxy is a sidecar or gateway asking an istiod for endpoints.
type Proxy struct {
	// Gateway is set for a gateway (an Envoy of type router); else a sidecar.
	Gateway bool
	// Cluster is where its pod runs; Istiod the cluster whose istiod serves it.
	Cluster, Istiod string
	// Namespace is the pod's namespace; IP and Labels are the pod's.
	Namespace string
	IP        string
	Labels    map[string]string
	// ClusterID and Network are ISTIO_META_CLUSTER_ID and ISTIO_META_NETWORK
	// as its injector sets them; NetworkView is a gateway's
	// ISTIO_META_REQUESTED_NETWORK_VIEW. MetadataFile is where they come from.
	ClusterID, Network string
	NetworkView        []string
	MetadataFile       string
	// ClusterIDFile is where ClusterID comes from, if not MetadataFile.
	ClusterIDFile string
	// Want maps an Envoy cluster ("outbound|8080||sample.meshc-sample.svc.cluster.local")
	// to the endpoints it must be sent, in any order. istiod must send the
	// proxy that cluster (CDS) and those endpoints (EDS).
	Want map[string][]Endpoint
	// Passes and Blocks are, for an east-west gateway, SNI names its 15443
	// listener must and must not match (AUTO_PASSTHROUGH: which hosts pass
	// it). Istio sends a gateway an SNI cluster for every service it sees;
	// what passes is decided by the listener's filter chains.
	Passes, Blocks []string
	// ConfigFile names, for findings, the Istio config that must give the
	// proxy its clusters (a gateway's Gateway resource); "" for sidecars.
	ConfigFile string
	// VM names a virtual machine's sidecar, and VMGroup its workload group
	// (namespace/name); both "" for pods.
	VM, VMGroup string
	// ProxyMetadata is the environment the sidecar starts with (from
	// MetadataFile); nil where the harness does not know it (gateways, a
	// remote's pods).
	ProxyMetadata map[string]string
}

func (p *Proxy) String() string {
	kind := "sidecar"
	if p.Gateway {
		kind = "east-west gateway"
	}
	if p.VM != "" {
		return "VM " + p.VM + " of " + p.VMGroup + " (served by " + p.Istiod + ")"
	}
	if p.Cluster == p.Istiod {
		return kind + " in " + p.Cluster
	}
	return kind + " in " + p.Cluster + " (served by " + p.Istiod + ")"
}

// Endpoint is one endpoint of an EDS response: an address, the cluster ID
// Envoy is told it belongs to (telemetry, locality), and its load balancing
// weight relative to the others of the response.
type Endpoint struct {
	Address string
	Cluster string
	Weight  uint32
}

func (e Endpoint) String() string { return fmt.Sprintf("%s(%s)×%d", e.Address, e.Cluster, e.Weight) }

// Facts are the mesh as istiod should see it: each cluster's network and
// the address its east-west gateway is reached at ("" when traffic to it
// does not go through one).
type Facts struct {
	Networks map[string]string
	Gateways map[string]string
	// VMNetworks is the network of each workload group's VMs, by
	// namespace/name.
	VMNetworks map[string]string
	// PeerNetworks are the networks the mesh puts its peers' gateways on,
	// PeerTrustDomains their trust domains; TrustDomain is the mesh's own.
	PeerNetworks, PeerTrustDomains []string
	TrustDomain                    string
	// Federated is set for a mesh with peers.
	Federated bool
}

// network is the network p must say it is on.
func (f Facts) network(p *Proxy) string {
	if p.VMGroup != "" {
		return f.VMNetworks[p.VMGroup]
	}
	return f.Networks[p.Cluster]
}

// Check asks, for every proxy of s, Istio's discovery code what it sends the
// proxy, and returns a finding for each thing Envoy would refuse in it
// (envoy.go) and for each proxy whose endpoints differ from what it wants,
// prefixed with the file at fault. A proxy that no istiod of s serves is a
// finding too: nothing is left unchecked.
func (s *Scenario) Check() error {
	return s.run(s.checkProxy)
}

// run starts every istiod of s and calls check for each proxy it serves,
// once connected. Each istiod runs on its own; a few run at a time, since
// most of their start-up is waiting for informers.
func (s *Scenario) run(check func(v *istiodView, c *ClusterState, p *Proxy, conn connected) []finding) error {
	var istiods []*ClusterState
	var f findings
	for _, c := range s.Clusters {
		if c.Istiod != nil {
			istiods = append(istiods, c)
		}
	}
	for _, p := range s.Proxies {
		if c := s.cluster(p.Istiod); c == nil || c.Istiod == nil {
			f.add(p.MetadataFile, fmt.Sprintf("no istiod serves the %s: %s runs none", p, p.Istiod), "")
		}
	}
	results := make([][]finding, len(istiods))
	sem := make(chan struct{}, 2*goruntime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, c := range istiods {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = s.runIstiod(c, check)
		})
	}
	wg.Wait()
	for _, r := range results {
		for _, x := range r {
			f.add(x.file, x.why, x.example)
		}
	}
	return f.err()
}

type finding struct{ file, why, example string }

// runIstiod starts the istiod of c and checks every proxy it serves.
func (s *Scenario) runIstiod(c *ClusterState, check func(v *istiodView, c *ClusterState, p *Proxy, conn connected) []finding) []finding {
	var out []finding
	err := test.Wrap(func(t test.Failer) {
		v := startIstiod(t, s, c)
		for _, p := range s.Proxies {
			if p.Istiod == c.Name {
				out = append(out, check(v, c, p, v.connect(p))...)
			}
		}
	})
	if err != nil {
		out = append(out, finding{c.Name, fmt.Sprintf("istiod of %s does not start: %v", c.Name, err), ""})
	}
	return out
}

// checkProxy checks what the istiod of c sends the connected proxy p: all
// of it as Envoy would, then the SNI names its 15443 listener passes and
// the endpoints it wants.
func (s *Scenario) checkProxy(v *istiodView, c *ClusterState, p *Proxy, conn connected) []finding {
	out := append(s.checkEnvoy(v, c, p, conn), s.checkIdentity(v, c, p, conn)...)
	if len(p.Passes)+len(p.Blocks) > 0 {
		names := v.passthroughNames(conn)
		file := cmp.Or(p.ConfigFile, c.Name)
		for _, n := range p.Passes {
			if !slices.Contains(names, n) {
				out = append(out, finding{file, fmt.Sprintf("istiod of %s gives the %s no 15443 filter chain for SNI %s", c.Name, p, n), ""})
			}
		}
		for _, n := range p.Blocks {
			if slices.Contains(names, n) {
				out = append(out, finding{file, fmt.Sprintf("istiod of %s lets SNI %s pass the %s on 15443", c.Name, n, p), ""})
			}
		}
	}
	for _, ec := range sortedKeysOf(p.Want) {
		got, err := v.endpoints(p, conn, ec)
		if err != nil {
			file := cmp.Or(p.ConfigFile, c.Name)
			out = append(out, finding{file, fmt.Sprintf("istiod of %s: %v", c.Name, err), ""})
			continue
		}
		want := p.Want[ec]
		if sameEndpoints(got, want) {
			continue
		}
		file, why := s.blame(v, c, p, got, want)
		out = append(out, finding{file, why, fmt.Sprintf("the %s gets %s for %s, want %s", p, describe(got), ec, describe(want))})
	}
	return out
}

// sameEndpoints compares endpoints as Envoy uses them: the same addresses
// and clusters with the same share of traffic. Istio scales weights by a
// factor of its own (the lcm of gateways per network); shares do not change.
func sameEndpoints(got, want []Endpoint) bool {
	return slices.Equal(normalize(got), normalize(want))
}

func normalize(eps []Endpoint) []Endpoint {
	out := slices.Clone(eps)
	var g uint32
	for _, e := range out {
		g = gcd(g, e.Weight)
	}
	for i := range out {
		if g > 0 {
			out[i].Weight /= g
		}
	}
	slices.SortFunc(out, func(a, b Endpoint) int {
		return cmp.Or(strings.Compare(a.Address, b.Address), strings.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Weight, b.Weight))
	})
	return out
}

func gcd(a, b uint32) uint32 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func describe(eps []Endpoint) string {
	if len(eps) == 0 {
		return "no endpoints"
	}
	var parts []string
	for _, e := range normalize(eps) {
		parts = append(parts, e.String())
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// findings collects findings by file and reason, so one broken file that
// many proxies see reads as one finding, with the first proxy's endpoints as
// the example.
type findings struct {
	keys               []string
	file, why, example map[string]string
	count              map[string]int
}

func (f *findings) add(file, why, example string) {
	key := file + ": " + why
	if f.count == nil {
		f.file, f.why, f.example, f.count = map[string]string{}, map[string]string{}, map[string]string{}, map[string]int{}
	}
	if f.count[key] == 0 {
		f.keys = append(f.keys, key)
		f.file[key], f.why[key], f.example[key] = file, why, example
	}
	f.count[key]++
}

func (f *findings) err() error {
	if len(f.keys) == 0 {
		return nil
	}
	var ps diag.Problems
	for _, k := range f.keys {
		file, msg := f.file[k], f.why[k]
		if ex := f.example[k]; ex != "" {
			msg += ": " + ex
		}
		if n := f.count[k]; n > 1 {
			msg += fmt.Sprintf(" (and %d more proxies or services alike)", n-1)
		}
		ps = append(ps, problemAt(CheckBehaviour, file, msg))
	}
	return ps
}

func sortedKeysOf[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// VerifyBehaviour checks that the mesh meshc rendered for m into dir works:
// with every cluster holding what the plan installs and a sample service,
// it asks Istio's discovery code, as each primary's istiod, what every
// proxy of the mesh is sent (a sidecar in every cluster, every east-west
// gateway, every VM), checks all of it as Envoy would (envoy.go), and
// compares the endpoints with what the Mesh promises (see expect.go). In an
// ambient mesh it asks instead what every primary's ztunnels are sent
// (ambient_behaviour.go). It
// returns every finding, joined, each prefixed with the file at fault
// relative to dir.
func VerifyBehaviour(m *mesh.Mesh, dir string) error {
	s, err := behaviourWorld(m, dir)
	if m.Ambient() {
		// No sidecars and no Envoy east-west gateways: ztunnels, sent WDS.
		return problemsOf(CheckBehaviour, errors.Join(err, s.checkZtunnels(m, dir))).Err()
	}
	return problemsOf(CheckBehaviour, errors.Join(err, s.missingProxies(m), s.Check())).Err()
}

// behaviourWorld is the scenario VerifyBehaviour checks for m: the installed
// world, the services the harness deploys and the Mesh's expectations.
func behaviourWorld(m *mesh.Mesh, dir string) (*Scenario, error) {
	s, err := installedWorld(m, dir)
	s.deploySharedServices(m)
	s.deployVMServices(m)
	s.reportVMHealth(m)
	s.deployPolicies(m)
	s.expect(m)
	return s, err
}

// missingProxies returns a finding for every proxy the Mesh implies that
// the rendered output gives the check none of: a sidecar in every cluster,
// an east-west gateway where the Mesh asks for one, each VM.
func (s *Scenario) missingProxies(m *mesh.Mesh) error {
	var f findings
	has := func(match func(p *Proxy) bool) bool { return slices.ContainsFunc(s.Proxies, match) }
	for _, c := range m.Spec.Clusters {
		if !has(func(p *Proxy) bool { return !p.Gateway && p.VM == "" && p.Cluster == c.Name }) {
			f.add(c.Name, "no sidecar of "+c.Name+" to check", "")
		}
		if cs := s.cluster(c.Name); c.EastWestGateway != nil && !has(func(p *Proxy) bool { return p.Gateway && p.Cluster == c.Name }) {
			f.add(cmp.Or(cs.GatewayFile, c.Name), "no east-west gateway of "+c.Name+" to check", "")
		}
	}
	for _, g := range m.Spec.WorkloadGroups {
		names := []string{g.Name}
		if !g.AutoRegister() {
			names = nil
			for _, in := range g.Instances {
				names = append(names, in.Name)
			}
		}
		for _, n := range names {
			if !has(func(p *Proxy) bool { return p.VMGroup == g.Namespace+"/"+g.Name && p.VM == n }) {
				f.add(g.Dir(), "no VM "+n+" of "+g.Namespace+"/"+g.Name+" to check", "")
			}
		}
	}
	return f.err()
}

// expect fills in what the Mesh promises: its facts, and every proxy's
// endpoints (expect.go).
func (s *Scenario) expect(m *mesh.Mesh) {
	s.Facts = meshFacts(m)
	for _, p := range s.Proxies {
		if !p.Gateway {
			p.Want = map[string][]Endpoint{sampleEnvoyCluster: wantEndpoints(m, proxyNetwork(m, p))}
		} else if eps, ok := wantGatewayEndpoints(m, p.Cluster); ok {
			p.Want = map[string][]Endpoint{gatewaySNICluster: eps}
		}
	}
	s.expectSharedServices(m)
	s.expectFederation(m)
	s.expectVMs(m)
}
