package conformance

import (
	"cmp"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	meshconfig "istio.io/api/mesh/v1alpha1"
	networkingapi "istio.io/api/networking/v1alpha3"
	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	"istio.io/istio/pilot/pkg/serviceregistry/kube"
	"istio.io/istio/pilot/pkg/trustbundle"
	"istio.io/istio/pkg/config/host"

	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/render"
)

// Federation: what a primary of a mesh with peers must hold, from the Mesh's
// spec.peers, checked on the rendered objects with Istio's own helpers
// (host matching, auto-passthrough detection of remote gateways).

// federationObjects collects what the cluster's manifests hold for
// federation, to compare with the Mesh once every file is read.
type federationObjects struct {
	serviceEntries []*networkingv1.ServiceEntry
	remoteGateways []*gatewayv1.Gateway
	gateways       []*networkingv1.Gateway
}

func (f *federationObjects) add(obj runtime.Object) {
	switch o := obj.(type) {
	case *networkingv1.ServiceEntry:
		f.serviceEntries = append(f.serviceEntries, o)
	case *gatewayv1.Gateway:
		f.remoteGateways = append(f.remoteGateways, o)
	case *networkingv1.Gateway:
		f.gateways = append(f.gateways, o)
	}
}

// checkFederationMeshConfig: a primary of a federated mesh trusts each
// peer's root for the peer's trust domain, and keeps the peer's identities
// apart from its own: no trust domain alias names a peer, since istiod
// would then rewrite every AuthorizationPolicy principal to match both.
func (v *clusterCheck) checkFederationMeshConfig(rel string, mc *meshconfig.MeshConfig, istiodEnv, sidecar map[string]string) {
	peers := v.mesh.Spec.Peers
	want := map[bool]string{true: "true", false: ""}
	multi := len(peers) > 0 || v.mesh.Spec.CA.PreviousRoot != nil
	v.expect(rel, "istiod env ISTIO_MULTIROOT_MESH", istiodEnv["ISTIO_MULTIROOT_MESH"], want[multi])
	if sidecar != nil {
		v.expect(rel, "injected sidecar env PROXY_CONFIG_XDS_AGENT", sidecar["PROXY_CONFIG_XDS_AGENT"], want[multi])
		imports := slices.ContainsFunc(peers, func(p mesh.Peer) bool { return len(p.Imports) > 0 })
		if imports {
			v.expect(rel, "injected sidecar env ISTIO_META_DNS_CAPTURE", sidecar["ISTIO_META_DNS_CAPTURE"], "true")
			// Before 1.25 istiod allocates no addresses for the imported
			// hosts, and the proxies must (mesh.IstioChanges).
			v.expect(rel, "injected sidecar env ISTIO_META_DNS_AUTO_ALLOCATE", sidecar["ISTIO_META_DNS_AUTO_ALLOCATE"], want[proxiesAllocate(v.mesh)])
		}
	}
	v.checkRootMove(rel, mc)
	for _, p := range peers {
		if slices.Contains(mc.GetTrustDomainAliases(), p.TrustDomain) {
			v.failf(rel, "mesh config trustDomainAliases %v: peer %s's trust domain %s is an alias of this mesh's, so its identities pass for this mesh's own", mc.GetTrustDomainAliases(), p.MeshID, p.TrustDomain)
		}
		anchor := certificates(p.TrustAnchor.PEM)
		if !slices.ContainsFunc(mc.GetCaCertificates(), func(c *meshconfig.MeshConfig_CertificateData) bool {
			return slices.Equal(certificates(c.GetPem()), anchor) && slices.Contains(c.GetTrustDomains(), p.TrustDomain)
		}) {
			v.failf(rel, "mesh config caCertificates: no entry with peer %s's trust anchor for trust domain %s", p.MeshID, p.TrustDomain)
		}
	}
}

// proxiesAllocate reports whether the Mesh's Istio release gives imported
// hosts no address from istiod, by its entry in mesh.IstioChanges.
func proxiesAllocate(m *mesh.Mesh) bool {
	for _, c := range mesh.IstioChanges {
		if c.Name == mesh.ChangeIPAutoallocate {
			return c.Affects(m.IstioMinor())
		}
	}
	panic("mesh.IstioChanges has no entry " + mesh.ChangeIPAutoallocate)
}

// certificates returns the DER of every certificate in pemText, so two
// encodings of one bundle compare equal.
func certificates(pemText string) []string {
	var out []string
	rest := []byte(pemText)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return out
		}
		if _, err := x509.ParseCertificate(b.Bytes); err == nil {
			out = append(out, string(b.Bytes))
		}
	}
}

// checkFederation compares the cluster's federation objects with the Mesh:
// on a primary, one remote Gateway per network of a peer imported from, one
// ServiceEntry per imported host, and east-west gateway servers that pass
// exactly the exported hosts of the mesh's services to other meshes.
func (v *clusterCheck) checkFederation(f *federationObjects) {
	const rel = render.ManifestsDir
	if v.cluster.Role != mesh.RolePrimary {
		if len(f.serviceEntries)+len(f.remoteGateways) > 0 {
			v.failf(rel, "remote %s holds federation objects; only a primary's istiod reads them", v.cluster.Name)
		}
		return
	}
	for i := range v.mesh.Spec.Peers {
		p := &v.mesh.Spec.Peers[i]
		if len(p.Imports) == 0 {
			continue
		}
		for _, n := range peerNetworks(p) {
			v.checkRemoteGateway(rel, p, n, f.remoteGateways)
		}
		for _, s := range p.Imports {
			v.checkImport(rel, p, s, f.serviceEntries)
		}
	}
	v.checkExposure(rel, f.gateways)
}

// checkRemoteGateway: istiod learns the gateways of each network of a peer
// from a Gateway of class istio-remote labelled with the network, at the
// addresses of the peer's gateways the Mesh places on it, with a listener
// Istio takes for auto-passthrough on 15443.
func (v *clusterCheck) checkRemoteGateway(rel string, p *mesh.Peer, n peerNetwork, gws []*gatewayv1.Gateway) {
	for _, g := range gws {
		if g.Labels[networkLabel] != n.name {
			continue
		}
		if g.Spec.GatewayClassName != "istio-remote" {
			v.failf(rel, "Gateway %s for peer %s: class %q, want istio-remote (istiod deploys nothing for it)", g.Name, p.MeshID, g.Spec.GatewayClassName)
		}
		var got, want []string
		for _, a := range g.Spec.Addresses {
			got = append(got, a.Value)
		}
		want = append(want, n.addresses...)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			v.failf(rel, "Gateway %s for peer %s: addresses %v, want the peer's gateways on network %s %v", g.Name, p.MeshID, got, n.name, want)
		}
		if !slices.ContainsFunc(g.Spec.Listeners, func(l gatewayv1.Listener) bool {
			return l.Port == 15443 && kube.IsAutoPassthrough(g.Labels, l)
		}) {
			v.failf(rel, "Gateway %s for peer %s: no listener Istio takes for auto-passthrough on 15443", g.Name, p.MeshID)
		}
		return
	}
	v.failf(rel, "no Gateway labelled %s=%s: istiod does not know peer %s's gateways there", networkLabel, n.name, p.MeshID)
}

// checkImport: the imported host is a mesh-internal ServiceEntry on the
// Mesh's ports, accepting only the peer's identities, whose endpoints are the
// peer's gateways on 15443 of the networks the import names (all, without
// any), each on the network the Mesh places it on.
func (v *clusterCheck) checkImport(rel string, p *mesh.Peer, s mesh.ImportedService, ses []*networkingv1.ServiceEntry) {
	i := slices.IndexFunc(ses, func(se *networkingv1.ServiceEntry) bool { return slices.Contains(se.Spec.GetHosts(), s.Host) })
	if i < 0 {
		v.failf(rel, "no ServiceEntry for %s, imported from peer %s", s.Host, p.MeshID)
		return
	}
	se := &ses[i].Spec
	what := fmt.Sprintf("ServiceEntry %s", ses[i].Name)
	v.expect(rel, what+" location", se.GetLocation().String(), networkingapi.ServiceEntry_MESH_INTERNAL.String())
	v.expect(rel, what+" subjectAltNames", strings.Join(se.GetSubjectAltNames(), ","), strings.Join(s.Identities, ","))
	var gotPorts, wantPorts []string
	for _, sp := range se.GetPorts() {
		gotPorts = append(gotPorts, fmt.Sprintf("%s/%d/%s", sp.GetName(), sp.GetNumber(), sp.GetProtocol()))
	}
	for _, sp := range s.Ports {
		wantPorts = append(wantPorts, fmt.Sprintf("%s/%d/%s", sp.Name, sp.Port, sp.Protocol))
	}
	v.expect(rel, what+" ports", strings.Join(gotPorts, ","), strings.Join(wantPorts, ","))
	network := map[string]string{}
	var want []string
	for _, g := range p.Gateways {
		if s.Networks == nil || slices.Contains(s.Networks, cmp.Or(g.Network, p.Network)) {
			want = append(want, g.Address)
			network[g.Address] = cmp.Or(g.Network, p.Network)
		}
	}
	var addrs []string
	for _, ep := range se.GetEndpoints() {
		addrs = append(addrs, ep.GetAddress())
		v.expect(rel, what+" endpoint "+ep.GetAddress()+" network", ep.GetNetwork(), network[ep.GetAddress()])
		for _, sp := range s.Ports {
			if got := ep.GetPorts()[sp.Name]; got != 15443 {
				v.failf(rel, "%s endpoint %s: port %s goes to %d, want the peer gateway's 15443", what, ep.GetAddress(), sp.Name, got)
			}
		}
	}
	slices.Sort(addrs)
	slices.Sort(want)
	v.expect(rel, what+" endpoint addresses", strings.Join(addrs, ","), strings.Join(want, ","))
}

// checkExposure: of the hosts the mesh knows (its services, its exports),
// the 15443 AUTO_PASSTHROUGH servers on the east-west gateways pass exactly
// the exported ones, by Istio's own host matching. A multi-network mesh also
// passes every *.local host to its own networks (docs/federation.md), so only
// the exports are required there.
func (v *clusterCheck) checkExposure(rel string, gws []*networkingv1.Gateway) {
	exported := v.mesh.ExportedHosts()
	var known []string
	for _, s := range v.mesh.Spec.Services {
		known = append(known, s.Name+"."+s.Namespace+".svc."+mesh.ClusterDomain)
	}
	for _, p := range v.mesh.Spec.Peers {
		for _, e := range p.Exports {
			known = append(known, e.Host)
		}
	}
	passes := func(h string) bool {
		for _, g := range gws {
			if g.Spec.GetSelector()["istio"] != "eastwestgateway" {
				continue
			}
			for _, s := range g.Spec.GetServers() {
				if s.GetPort().GetNumber() != 15443 || s.GetTls().GetMode() != networkingapi.ServerTLSSettings_AUTO_PASSTHROUGH {
					continue
				}
				for _, sh := range s.GetHosts() {
					if host.Name(h).SubsetOf(host.Name(sh)) {
						return true
					}
				}
			}
		}
		return false
	}
	for _, h := range known {
		switch should := slices.Contains(exported, h); {
		case should && !passes(h):
			v.failf(rel, "%s is exported to peers, but no 15443 AUTO_PASSTHROUGH server of the east-west gateways passes it", h)
		case !should && passes(h) && !v.mesh.MultiNetwork():
			v.failf(rel, "%s is not exported, but a 15443 AUTO_PASSTHROUGH server of the east-west gateways passes it to peers", h)
		}
	}
}

// peerNetwork is a network the Mesh places a peer's endpoints on, with the
// addresses of the peer's gateways there.
type peerNetwork struct {
	name      string
	addresses []string
}

// peerNetworks groups a peer's gateways by network, read from the Mesh's
// fields: a gateway's own network, or the peer's.
func peerNetworks(p *mesh.Peer) []peerNetwork {
	var out []peerNetwork
	for _, g := range p.Gateways {
		n := cmp.Or(g.Network, p.Network)
		i := slices.IndexFunc(out, func(pn peerNetwork) bool { return pn.name == n })
		if i < 0 {
			out = append(out, peerNetwork{name: n})
			i = len(out) - 1
		}
		out[i].addresses = append(out[i].addresses, g.Address)
	}
	return out
}

// checkRootMove: while the root moves (spec.ca.previousRoot), the trust
// bundle Istio's own code builds from the mesh config (pilot/pkg/trustbundle,
// which istiod hands to every sidecar with ISTIO_MULTIROOT_MESH) holds the
// previous root and the root, so that no workload stops trusting another
// whichever root signed its certificate.
func (v *clusterCheck) checkRootMove(rel string, mc *meshconfig.MeshConfig) {
	ca := v.mesh.Spec.CA
	if ca.PreviousRoot == nil {
		return
	}
	tb := trustbundle.NewTrustBundle(x509.NewCertPool(), nil)
	if err := tb.AddMeshConfigUpdate(mc); err != nil {
		v.failf(rel, "mesh config caCertificates: istiod refuses them as trust anchors: %v", err)
		return
	}
	var held []string
	for _, c := range tb.GetTrustBundle() {
		held = append(held, certificates(c)...)
	}
	for _, r := range []struct{ what, pem string }{{"spec.ca.previousRoot", ca.PreviousRoot.PEM}, {"spec.ca.root", ca.Root.PEM}} {
		for _, c := range certificates(r.pem) {
			if !slices.Contains(held, c) {
				v.failf(rel, "mesh config caCertificates: istiod's trust bundle lacks %s while the root moves: workloads of that root would not be trusted", r.what)
			}
		}
	}
}
