package conformance

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"

	securityapi "istio.io/api/security/v1beta1"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/schema/gvk"

	"meshc.dev/meshc/mesh"
)

// Identities across federated meshes, from the Mesh alone:
//
//   - a peer's workloads are not this mesh's: an AuthorizationPolicy that
//     allows this mesh's identity ns/meshc-sample/sa/sample must not allow
//     the peer's identity of the same namespace and service account. The
//     harness writes such a policy in every primary for the sample
//     namespace; no sidecar's inbound rules may name the peer's trust
//     domain (istiod writes its aliases of the mesh's trust domain there);
//   - every sidecar of a federated mesh (a primary's pods, the VMs) runs
//     the proxy config agent (PROXY_CONFIG_XDS_AGENT), which hands it the
//     peers' roots.

// samplePolicy allows the sample service's own identity in the mesh's trust
// domain to call the sample pods.
func samplePolicy(m *mesh.Mesh) Object {
	return Object{Config: &config.Config{
		Meta: config.Meta{GroupVersionKind: gvk.AuthorizationPolicy, Name: "meshc-sample", Namespace: sampleNamespace, Domain: "cluster.local"},
		Spec: &securityapi.AuthorizationPolicy{Rules: []*securityapi.Rule{{
			From: []*securityapi.Rule_From{{Source: &securityapi.Source{Principals: []string{m.Spec.TrustDomain + "/ns/" + sampleNamespace + "/sa/" + sampleName}}}},
		}}},
	}}
}

// deployPolicies adds samplePolicy to every primary of a federated mesh.
func (s *Scenario) deployPolicies(m *mesh.Mesh) {
	if !m.Federated() {
		return
	}
	for _, c := range s.Clusters {
		if c.Istiod != nil {
			c.Objects = append(c.Objects, samplePolicy(m))
		}
	}
}

// checkIdentity returns a finding when the inbound rules istiod sends the
// sidecar p accept a peer's identity for the mesh's own, or when p is a
// sidecar of a federated mesh without the proxy config agent.
func (s *Scenario) checkIdentity(v *istiodView, c *ClusterState, p *Proxy, conn connected) []finding {
	if p.Gateway || !s.Facts.Federated {
		return nil
	}
	var out []finding
	if p.ProxyMetadata != nil && p.ProxyMetadata["PROXY_CONFIG_XDS_AGENT"] != "true" {
		out = append(out, finding{p.MetadataFile, fmt.Sprintf("the %s starts without PROXY_CONFIG_XDS_AGENT=true: in a federated mesh it never gets the peers' roots", p), ""})
	}
	if p.VM != "" || p.Namespace != sampleNamespace {
		return out
	}
	for _, l := range v.cg.Listeners(conn.proxy) {
		js, err := protojson.Marshal(l)
		if err != nil {
			continue
		}
		for _, td := range s.Facts.PeerTrustDomains {
			id := "spiffe://" + td + "/ns/" + sampleNamespace + "/sa/" + sampleName
			if strings.Contains(string(js), id) {
				out = append(out, finding{c.Istiod.ClusterIDFile,
					fmt.Sprintf("istiod of %s lets the peer's identity %s pass an AuthorizationPolicy that allows %s/ns/%s/sa/%s: its mesh config makes the peer's trust domain an alias of the mesh's own",
						c.Name, id, s.Facts.TrustDomain, sampleNamespace, sampleName),
					fmt.Sprintf("listener %s of the %s", l.GetName(), p)})
				break
			}
		}
	}
	return out
}
