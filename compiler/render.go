package compiler

import (
	"bytes"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"

	"meshc.dev/meshc/templates"
)

// File is one rendered file, its path relative to the output directory.
type File struct {
	Path string
	Data []byte
	// Mode is the file's permission bits; 0 means 0644.
	Mode fs.FileMode
}

// Output is the whole rendered tree for a mesh, sorted by path.
type Output struct {
	Files []File
}

// Lookup returns the file at path, or nil.
func (o *Output) Lookup(p string) *File {
	i, ok := slices.BinarySearchFunc(o.Files, p, func(f File, p string) int { return strings.Compare(f.Path, p) })
	if !ok {
		return nil
	}
	return &o.Files[i]
}

// Directory names inside each cluster's output. install/ holds istioctl
// inputs (IstioOperator is not a resource kubectl can apply); manifests/ is a
// kustomization kubectl applies as is.
const (
	InstallDir   = "install"
	ManifestsDir = "manifests"
	PlanFile     = "PLAN.md"
	// PlanScript is the plan as a runnable script.
	PlanScript = "plan.sh"
	// RemoteAccessDir holds, in a cluster other primaries watch, the reader
	// service account, token and RBAC: complete, apply as is.
	RemoteAccessDir = "remote-access"
	// RemoteSecretsDir holds, in a primary, one remote secret per cluster it
	// watches, with credential placeholders: kept apart from manifests/ so
	// nothing applies them before they are filled in.
	RemoteSecretsDir = "remote-secrets"
	// ReaderTokenSecret is the reader token Secret; the name istioctl
	// create-remote-secret creates and reuses.
	ReaderTokenSecret = "istio-reader-service-account-istio-remote-secret-token"
)

// clusterView is what a cluster's templates see: the cluster, its mesh and
// everything derived about its place in the mesh.
type clusterView struct {
	Mesh    *Mesh
	Cluster *Cluster
	// Primary is the primary a remote uses; nil on a primary.
	Primary *Cluster
	// Remotes are the remotes a primary serves, in input order.
	Remotes []*Cluster
	// PilotAddress is where a remote reaches its primary's istiod.
	PilotAddress string
	MultiNetwork bool
	// Resources lists the manifests/ files, in apply order.
	Resources []string
}

// Render produces every file of every cluster plus the mesh's plan. The mesh
// must have passed Validate; Render reports, but does not diagnose, a mesh
// that did not. Clusters render independently and in parallel; the result is
// byte-identical from run to run.
func Render(m *Mesh) (*Output, error) {
	r := newRenderer(m)
	perCluster := make([][]File, len(m.Spec.Clusters))
	errs := make([]error, len(m.Spec.Clusters))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(runtime.GOMAXPROCS(0), len(m.Spec.Clusters)) {
		wg.Go(func() {
			for i := range next {
				perCluster[i], errs[i] = r.cluster(&m.Spec.Clusters[i])
			}
		})
	}
	for i := range m.Spec.Clusters {
		next <- i
	}
	close(next)
	wg.Wait()

	out := &Output{}
	for i := range perCluster {
		if errs[i] != nil {
			return nil, errs[i]
		}
		out.Files = append(out.Files, perCluster[i]...)
	}
	if m.Declarative() {
		access, err := renderRemoteAccess(m)
		if err != nil {
			return nil, err
		}
		out.Files = append(out.Files, access...)
	}
	p := BuildPlan(m)
	plan, err := RenderPlanMarkdown(p)
	if err != nil {
		return nil, err
	}
	script, err := RenderPlanShell(p, ShellOptions{})
	if err != nil {
		return nil, err
	}
	out.Files = append(out.Files, File{Path: PlanFile, Data: plan}, File{Path: PlanScript, Data: script, Mode: 0o755})
	slices.SortFunc(out.Files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// RenderCluster renders only the named cluster's files (install/ and
// manifests/, without the mesh's plan or remote-secret files): what the
// kustomize function emits, at the cost of one cluster rather than the mesh.
// The mesh must have passed Validate.
func RenderCluster(m *Mesh, name string) (*Output, error) {
	c := m.Cluster(name)
	if c == nil {
		return nil, fmt.Errorf("cluster %q is not in mesh %q", name, m.Metadata.Name)
	}
	files, err := newRenderer(m).cluster(c)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return &Output{Files: files}, nil
}

// renderer holds what every cluster's rendering reads about the mesh,
// computed once per mesh so per-cluster work stays linear.
type renderer struct {
	m            *Mesh
	remotes      map[string][]*Cluster
	byName       map[string]*Cluster
	multiNetwork bool
}

func newRenderer(m *Mesh) *renderer {
	r := &renderer{m: m, remotes: m.Remotes(), multiNetwork: m.MultiNetwork(),
		byName: make(map[string]*Cluster, len(m.Spec.Clusters))}
	for i := range m.Spec.Clusters {
		r.byName[m.Spec.Clusters[i].Name] = &m.Spec.Clusters[i]
	}
	return r
}

// cluster renders one cluster's install/ and manifests/ files.
func (r *renderer) cluster(c *Cluster) ([]File, error) {
	v := &clusterView{Mesh: r.m, Cluster: c, Remotes: r.remotes[c.Name], MultiNetwork: r.multiNetwork}
	if !c.IsPrimary() {
		v.Primary = r.byName[c.ControlPlane]
		if v.Primary == nil {
			return nil, fmt.Errorf("cluster %q: control plane %q not found (validate the mesh before rendering)", c.Name, c.ControlPlane)
		}
		v.PilotAddress = v.Primary.IstiodAddress()
	}
	files, err := renderCluster(v)
	if err != nil {
		return nil, fmt.Errorf("cluster %q: %w", c.Name, err)
	}
	return files, nil
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

// InjectionPath is the path on which a remote's primary istiod learns the
// pod's cluster and network.
func (v *clusterView) InjectionPath() string {
	return "/inject/cluster/" + v.Cluster.Name + "/net/" + v.Cluster.Network
}

// InjectionURL is the full webhook URL a remote uses when its primary's
// istiod is reached by hostname; "" otherwise (the webhook then goes through
// the istiod Service, which the remote profile points at the address).
func (v *clusterView) InjectionURL() string {
	if v.Primary == nil || v.Primary.IstiodHost() == "" {
		return ""
	}
	return "https://" + net.JoinHostPort(v.Primary.IstiodHost(), "15017") + v.InjectionPath()
}

// CustomHost is the istiod hostname a primary must sign its serving
// certificate for: set when it serves remotes by hostname.
func (v *clusterView) CustomHost() string {
	if len(v.Remotes) == 0 {
		return ""
	}
	return v.Cluster.IstiodHost()
}

// ExposesIstiod reports whether the primary exposes istiod through its
// east-west gateway, as the Istio guides do for primaries with remotes.
func (v *clusterView) ExposesIstiod() bool {
	return len(v.Remotes) > 0 && v.Cluster.EastWestGateway != nil &&
		(v.Cluster.Istiod == nil || v.Cluster.Istiod.Address == "")
}

func renderCluster(v *clusterView) ([]File, error) {
	c := v.Cluster
	type item struct{ dir, name, tmpl string }
	var items []item
	if c.IsPrimary() {
		items = append(items, item{InstallDir, "istio.yaml", "primary.yaml.tmpl"})
	} else {
		items = append(items, item{InstallDir, "istio.yaml", "remote.yaml.tmpl"})
	}
	if c.EastWestGateway != nil {
		items = append(items, item{InstallDir, "eastwest-gateway.yaml", "eastwest-gateway.yaml.tmpl"})
	}
	items = append(items, item{ManifestsDir, "namespace.yaml", "namespace.yaml.tmpl"})
	// Gateway resources are read by the istiod of the cluster they live in,
	// so they go to primaries only; a primary's config also drives its
	// remotes' gateways.
	if c.IsPrimary() && v.MultiNetwork {
		items = append(items, item{ManifestsDir, "cross-network-gateway.yaml", "cross-network-gateway.yaml.tmpl"})
	}
	if c.IsPrimary() && v.ExposesIstiod() {
		items = append(items, item{ManifestsDir, "expose-istiod.yaml", "expose-istiod.yaml.tmpl"})
	}
	for _, it := range items {
		if it.dir == ManifestsDir {
			v.Resources = append(v.Resources, it.name)
		}
	}
	items = append(items, item{ManifestsDir, "kustomization.yaml", "kustomization.yaml.tmpl"})

	files := make([]File, 0, len(items))
	var buf bytes.Buffer
	for _, it := range items {
		buf.Reset()
		if err := templates.Set.ExecuteTemplate(&buf, it.tmpl, v); err != nil {
			return nil, fmt.Errorf("rendering %s: %w", it.name, err)
		}
		files = append(files, File{Path: path.Join(c.Name, it.dir, it.name), Data: bytes.Clone(buf.Bytes())})
	}
	return files, nil
}

// readerView is what istio-reader.yaml.tmpl sees: a cluster other primaries
// watch, and those primaries.
type readerView struct {
	Mesh        *Mesh
	Cluster     *Cluster
	Readers     []*Cluster
	TokenSecret string
}

// remoteSecretView is what remote-secret.yaml.tmpl sees: one reader/source
// pair and the placeholder names for the credential it lacks.
type remoteSecretView struct {
	Mesh                       *Mesh
	Reader, Source             *Cluster
	TokenSecret                string
	CAVar, TokenVar, ServerVar string
}

// renderRemoteAccess writes the declarative form of every remote secret:
// per watched cluster its reader access, per pair the Secret the reading
// primary needs, in the order RemoteSecrets gives.
func renderRemoteAccess(m *Mesh) ([]File, error) {
	pairs := RemoteSecrets(m)
	readers := map[string][]*Cluster{}
	var files []File
	var buf bytes.Buffer
	for _, s := range pairs {
		readers[s.Source.Name] = append(readers[s.Source.Name], s.Reader)
		env := "MESHC_" + strings.ToUpper(strings.ReplaceAll(s.Source.Name, "-", "_"))
		v := &remoteSecretView{Mesh: m, Reader: s.Reader, Source: s.Source, TokenSecret: ReaderTokenSecret,
			CAVar: env + "_CA_DATA", TokenVar: env + "_TOKEN", ServerVar: env + "_API_SERVER"}
		buf.Reset()
		if err := templates.Set.ExecuteTemplate(&buf, "remote-secret.yaml.tmpl", v); err != nil {
			return nil, fmt.Errorf("cluster %q: rendering remote secret for %q: %w", s.Reader.Name, s.Source.Name, err)
		}
		files = append(files, File{Path: path.Join(s.Reader.Name, RemoteSecretsDir, "istio-remote-secret-"+s.Source.Name+".yaml"), Data: bytes.Clone(buf.Bytes())})
	}
	for i := range m.Spec.Clusters {
		c := &m.Spec.Clusters[i]
		if len(readers[c.Name]) == 0 {
			continue
		}
		buf.Reset()
		v := &readerView{Mesh: m, Cluster: c, Readers: readers[c.Name], TokenSecret: ReaderTokenSecret}
		if err := templates.Set.ExecuteTemplate(&buf, "istio-reader.yaml.tmpl", v); err != nil {
			return nil, fmt.Errorf("cluster %q: rendering reader access: %w", c.Name, err)
		}
		files = append(files, File{Path: path.Join(c.Name, RemoteAccessDir, "istio-reader.yaml"), Data: bytes.Clone(buf.Bytes())})
	}
	return files, nil
}
