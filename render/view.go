package render

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"

	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/templates"
)

// clusterView is what a cluster's templates see: its Placement (the
// model's facts about it), and what rendering adds: the manifests/
// resources and whole install the artifact table gives it, its istiod's
// env, and the documents rendered once per mesh that several clusters
// share.
type clusterView struct {
	*mesh.Placement
	// The placement's fields again, at the top: templates read them on
	// nearly every line, and reflect finds a promoted field only by a
	// search that allocates (130,000 allocations more in a 1000-cluster
	// render).
	Mesh         *mesh.Mesh
	Cluster      *mesh.Cluster
	Primary      *mesh.Cluster
	Remotes      []*mesh.Cluster
	MultiNetwork bool
	docs         *meshDocs
}

func newClusterView(p *mesh.Placement, docs *meshDocs) *clusterView {
	return &clusterView{Placement: p, Mesh: p.Mesh, Cluster: p.Cluster, Primary: p.Primary, Remotes: p.Remotes,
		MultiNetwork: p.MultiNetwork, docs: docs}
}

// IstiodRelease is the Helm release of the cluster's istiod chart.
func (v *clusterView) IstiodRelease() string { return istiodRelease(v.Mesh) }

// IstiodServiceOf is the istiod Service of revision rev.
func (*clusterView) IstiodServiceOf(rev string) string { return mesh.IstiodServiceOf(rev) }

// TagInjectionPath is the path a revision tag's webhook calls: a remote's
// (its primary's istiod learns the pod's cluster and network from it), or
// istiod's own.
func (v *clusterView) TagInjectionPath() string {
	if v.Cluster.IsPrimary() {
		return "/inject"
	}
	return v.InjectionPath()
}

// IstiodRoute is one revision's route through the east-west gateway to
// its istiod: the TLS server names of xDS (15012) and of the webhook
// (15017).
type IstiodRoute struct {
	// Revision is "" without a named revision (one route, any name).
	Revision, Service string
	XDS, Webhook      []string
}

// IstiodRoutes are the routes to this primary's istiods: any name to
// istiod, without a revision; with revisions, each revision's by the names
// of its istiod Service, and the webhook also by the hostname remotes reach
// istiod at (their webhook dials it by URL; MC078 keeps that to one
// revision at a time).
func (v *clusterView) IstiodRoutes() []IstiodRoute {
	if !v.Mesh.Revisioned() {
		return []IstiodRoute{{Service: "istiod", XDS: []string{"*"}, Webhook: []string{"*"}}}
	}
	var routes []IstiodRoute
	for i, rev := range v.Mesh.InstalledRevisions() {
		svc := mesh.IstiodServiceOf(rev)
		host := svc + ".istio-system.svc"
		r := IstiodRoute{Revision: rev, Service: svc, XDS: []string{host, host + "." + mesh.ClusterDomain}}
		r.Webhook = r.XDS
		if h := v.Cluster.IstiodHost(); i == 0 && h != "" && len(v.Remotes) > 0 {
			r.Webhook = append(slices.Clip(r.Webhook), h)
		}
		routes = append(routes, r)
	}
	return routes
}

// TagView is one revision tag as revision-tags.yaml.tmpl renders it.
type TagView struct {
	View *clusterView
	Tag  mesh.RevisionTag
}

// TagView pairs the cluster with tag t, for the template.
func (v *clusterView) TagView(t mesh.RevisionTag) TagView { return TagView{v, t} }

// Resources: see the function Resources.
func (v *clusterView) Resources() []string { return Resources(v.Placement) }

// WholeInstall is the cluster's whole-install kustomization.
func (v *clusterView) WholeInstall() WholeInstall { return wholeInstall(v.Placement) }

// IstiodEnv is the env of the primary's istiod.
func (v *clusterView) IstiodEnv() []mesh.EnvVar { return istiodEnv(v.Placement) }

// ServiceStubDocs are the cluster's stub Services as YAML documents, in the
// order of ServiceStubs.
func (v *clusterView) ServiceStubDocs() ([]string, error) {
	docs, err := v.docs.serviceStubs()
	if err != nil {
		return nil, err
	}
	stubs := v.ServiceStubs()
	out := make([]string, len(stubs))
	for i, s := range stubs {
		out[i] = docs[s]
	}
	return out, nil
}

// FederationPeersDoc is the body of federation-peers.yaml: per peer
// imported from, its istio-remote Gateway and one ServiceEntry per imported
// host.
func (v *clusterView) FederationPeersDoc() (string, error) { return v.docs.federationPeers() }

// meshDocs are the documents one Render writes into several clusters, each
// rendered once, on first use, and shared: every consuming cluster gets the
// same stub Service of a shared service (a mesh of 300 clusters and 200
// services has some 40,000 stubs), every primary the same peers' objects
// (100 primaries with 50 peers would otherwise render 50,000
// ServiceEntries). They belong to the render, not the model: the Mesh holds
// facts and never runs a template.
type meshDocs struct {
	m *mesh.Mesh

	stubOnce sync.Once
	stubDocs map[*mesh.SharedService]string
	stubErr  error

	peersOnce sync.Once
	peersDoc  string
	peersErr  error
}

func newMeshDocs(m *mesh.Mesh) *meshDocs { return &meshDocs{m: m} }

// serviceStubs renders the Service document of every stubbed service.
func (d *meshDocs) serviceStubs() (map[*mesh.SharedService]string, error) {
	d.stubOnce.Do(func() {
		d.stubDocs = map[*mesh.SharedService]string{}
		var buf bytes.Buffer
		for i := range d.m.Spec.Clusters {
			for _, s := range d.m.ServiceStubs(d.m.Spec.Clusters[i].Name) {
				if _, done := d.stubDocs[s]; done {
					continue
				}
				buf.Reset()
				stub := struct {
					*mesh.SharedService
					Global bool
				}{s, d.m.IsGlobal(s)}
				if err := templates.Set.ExecuteTemplate(&buf, "service-stub.yaml.tmpl", stub); err != nil {
					d.stubErr = fmt.Errorf("service %s/%s: %w", s.Namespace, s.Name, err)
					return
				}
				d.stubDocs[s] = buf.String()
			}
		}
	})
	return d.stubDocs, d.stubErr
}

// federationPeers renders federation-peers.yaml without its header.
func (d *meshDocs) federationPeers() (string, error) {
	d.peersOnce.Do(func() {
		var buf bytes.Buffer
		if err := templates.Set.ExecuteTemplate(&buf, "federation-peers-body.tmpl", d.m); err != nil {
			d.peersErr = fmt.Errorf("rendering the peers' gateways and services: %w", err)
			return
		}
		d.peersDoc = strings.TrimRight(buf.String(), "\n")
	})
	return d.peersDoc, d.peersErr
}
