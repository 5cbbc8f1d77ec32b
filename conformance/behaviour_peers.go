package conformance

import (
	"errors"
	"fmt"
	"net"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
)

// Two federated meshes together. Each mesh's own check (VerifyBehaviour)
// proves its sidecars are sent what its Mesh file says about the peer and
// its gateways pass what it exports; neither can see whether the two
// halves meet. VerifyPeers asks istiod of one mesh where its sidecars send
// each imported host (the endpoints and the SNI Istio gives them), then asks
// istiod of the other mesh what the gateway at each of those addresses does
// with that SNI: it must pass it, to the host's pods on the gateway's own
// network, as the other Mesh file says where the host runs. A gateway on a
// network where the host does not run passes the SNI to nothing, and the
// calls sent there fail.

// VerifyPeers checks meshes a and b, federated with each other and rendered
// into dirA and dirB, in both directions. Findings name the mesh and the
// file at fault. Meshes that do not name each other as peers are an error.
func VerifyPeers(a *mesh.Mesh, dirA string, b *mesh.Mesh, dirB string) error {
	if peerOf(a, b) == nil || peerOf(b, a) == nil {
		return diag.Problems{problemAt(CheckPeers, "", fmt.Sprintf("%s and %s do not name each other as peers", a.Metadata.Name, b.Metadata.Name))}
	}
	return problemsOf(CheckPeers, errors.Join(verifyDialing(a, dirA, b, dirB), verifyDialing(b, dirB, a, dirA))).Err()
}

// peerOf is m's peer entry for mesh o, or nil.
func peerOf(m, o *mesh.Mesh) *mesh.Peer {
	for i := range m.Spec.Peers {
		if m.Spec.Peers[i].MeshID == o.Spec.MeshID {
			return &m.Spec.Peers[i]
		}
	}
	return nil
}

// dial is where sidecars of one mesh send an imported host: an address and
// port, with the SNI the peer's gateway routes by.
type dial struct {
	address, sni, host string
	// port is the one dialed; servicePort the host's, which the peer's
	// pods serve.
	port, servicePort int
	from              string // a proxy that dials it, for findings
	file              string // the file of the calling mesh that makes it
}

// verifyDialing checks that what from's sidecars dial for each host they
// import from to is a gateway of to that passes it to the host's pods.
func verifyDialing(from *mesh.Mesh, fromDir string, to *mesh.Mesh, toDir string) error {
	peer := peerOf(from, to)
	if len(peer.Imports) == 0 {
		return nil
	}
	// Problems reading either world are findings, but what could be read is
	// still checked: one broken file must not hide another.
	dials, fromErr := dialsOf(from, fromDir, peer)
	t, toErr := behaviourWorld(to, toDir)
	var refused findings
	gateways := map[*Proxy]bool{}
	for _, d := range dials {
		file, why := expectDialed(t, to, d, gateways)
		if why != "" {
			refused.add(file, why, fmt.Sprintf("the %s dials %s with SNI %s", d.from, net.JoinHostPort(d.address, strconv.Itoa(d.port)), d.sni))
		}
	}
	// Only the gateways dialed, and only for what is dialed.
	t.Proxies = slices.DeleteFunc(t.Proxies, func(p *Proxy) bool { return !gateways[p] })
	return errors.Join(prefixed(from.Metadata.Name, errors.Join(fromErr, refused.err())), prefixed(to.Metadata.Name, errors.Join(toErr, t.Check())))
}

// dialsOf runs the istiods of from and returns where their sidecars (pods'
// and VMs') send each port of each host imported from peer.
func dialsOf(from *mesh.Mesh, dir string, peer *mesh.Peer) ([]dial, error) {
	s, worldErr := behaviourWorld(from, dir)
	s.Proxies = slices.DeleteFunc(s.Proxies, func(p *Proxy) bool { return p.Gateway })
	var mu sync.Mutex
	var out []dial
	seen := map[string]bool{}
	err := s.run(func(v *istiodView, c *ClusterState, p *Proxy, conn connected) []finding {
		var found []finding
		for _, im := range peer.Imports {
			files := s.filesNamingHost(c, im.Host)
			file := c.Name
			if len(files) > 0 {
				file = files[0]
			}
			for _, port := range im.Ports {
				ec := fmt.Sprintf("outbound|%d||%s", port.Port, im.Host)
				i := slices.IndexFunc(conn.all, func(x *clusterv3.Cluster) bool { return x.GetName() == ec })
				if i < 0 {
					found = append(found, finding{file, fmt.Sprintf("istiod of %s sends the %s no cluster %s", c.Name, p, ec), ""})
					continue
				}
				sni := clusterSNI(conn.all[i])
				if sni == "" {
					found = append(found, finding{file, fmt.Sprintf("istiod of %s sends the %s cluster %s without the SNI a peer's gateway routes by", c.Name, p, ec), ""})
					continue
				}
				addrs, err := dialedAddresses(v, p, conn, conn.all[i])
				if err != nil {
					found = append(found, finding{file, fmt.Sprintf("istiod of %s: %v", c.Name, err), ""})
					continue
				}
				mu.Lock()
				for _, a := range addrs {
					host, portStr, _ := net.SplitHostPort(a)
					n, _ := strconv.Atoi(portStr)
					d := dial{address: host, port: n, servicePort: port.Port, sni: sni, host: im.Host, from: p.String(), file: file}
					if key := a + " " + sni; !seen[key] {
						seen[key] = true
						out = append(out, d)
					}
				}
				mu.Unlock()
			}
		}
		return found
	})
	slices.SortFunc(out, func(a, b dial) int {
		return strings.Compare(a.address+" "+a.sni, b.address+" "+b.sni)
	})
	return out, errors.Join(worldErr, err)
}

// dialedAddresses are the host:port endpoints of cluster c: from EDS, or the
// cluster's own load assignment when Envoy resolves them itself (DNS).
func dialedAddresses(v *istiodView, p *Proxy, conn connected, c *clusterv3.Cluster) ([]string, error) {
	if c.GetType() == clusterv3.Cluster_EDS {
		eps, err := v.endpoints(p, conn, c.GetName())
		var out []string
		for _, e := range eps {
			out = append(out, e.Address)
		}
		return out, err
	}
	var out []string
	for _, l := range c.GetLoadAssignment().GetEndpoints() {
		for _, e := range l.GetLbEndpoints() {
			out = append(out, address(e))
		}
	}
	return out, nil
}

// clusterSNI is the SNI Envoy sends upstream for cluster c, in Istio mTLS.
func clusterSNI(c *clusterv3.Cluster) string {
	sockets := []*clusterv3.Cluster_TransportSocketMatch{{TransportSocket: c.GetTransportSocket()}}
	sockets = append(sockets, c.GetTransportSocketMatches()...)
	for _, m := range sockets {
		var tls tlsv3.UpstreamTlsContext
		if ts := m.GetTransportSocket(); ts != nil && ts.GetTypedConfig().UnmarshalTo(&tls) == nil && tls.GetSni() != "" {
			return tls.GetSni()
		}
	}
	return ""
}

// expectDialed adds to t what the gateway of to at d's address must do with
// d's SNI, from to's Mesh file: pass it, to the pods of d's host on the
// gateway's network. It returns a finding against the calling mesh's file
// when the address is no gateway of to, or the host does not run on its
// network, and marks the gateway proxies to check in gateways.
func expectDialed(t *Scenario, to *mesh.Mesh, d dial, gateways map[*Proxy]bool) (file, why string) {
	x := slices.IndexFunc(to.Spec.Clusters, func(c mesh.Cluster) bool {
		return c.EastWestGateway != nil && c.EastWestGateway.Address != "" && hostAddress(c.EastWestGateway.Address) == hostAddress(d.address)
	})
	if x < 0 || d.port != 15443 {
		return d.file, fmt.Sprintf("sidecars send %s to %s, which is no east-west gateway's 15443 in %s", d.host, net.JoinHostPort(d.address, strconv.Itoa(d.port)), to.File)
	}
	c := &to.Spec.Clusters[x]
	si := slices.IndexFunc(to.Spec.Services, func(s mesh.SharedService) bool {
		return s.Name+"."+s.Namespace+".svc.cluster.local" == d.host
	})
	if si < 0 {
		return d.file, fmt.Sprintf("cannot check: %s does not declare %s in spec.services, so where it runs is unknown", to.File, d.host)
	}
	svc := &to.Spec.Services[si]
	var runs []int
	for _, y := range runsIn(to, svc) {
		if to.Spec.Clusters[y].Network == c.Network {
			runs = append(runs, y)
		}
	}
	if len(runs) == 0 {
		var where []string
		for _, y := range runsIn(to, svc) {
			where = appendNew(where, to.Spec.Clusters[y].Network)
		}
		return d.file, fmt.Sprintf("sidecars send %s to %s's gateway %s (%s, network %s), but %s runs it only on %s: the gateway passes it to no endpoint",
			d.host, to.Metadata.Name, d.address, c.Name, c.Network, to.File, strings.Join(where, ", "))
	}
	for _, p := range t.Proxies {
		if !p.Gateway || p.Cluster != c.Name {
			continue
		}
		if !gateways[p] {
			gateways[p] = true
			p.Want, p.Passes, p.Blocks = map[string][]Endpoint{}, nil, nil
		}
		p.Passes = appendNew(p.Passes, d.sni)
		p.Want[d.sni] = wantEndpointsOf(to, c.Network, runs, func(x, k int) string { return servicePodIP(si, x, k) }, d.servicePort)
	}
	return "", ""
}

// prefixed puts the mesh's name before each finding of err.
func prefixed(mesh string, err error) error {
	if err == nil {
		return nil
	}
	ps := problemsOf(CheckPeers, err)
	for i := range ps {
		// The file is the mesh's: its rendered tree is one of two.
		ps[i].Pos.Filename = path.Join(mesh, ps[i].Pos.Filename)
		ps[i].Rule = CheckPeers
	}
	return ps
}
