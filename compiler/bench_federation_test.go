package compiler_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/internal/meshgen"
)

// benchPeers are the peer counts BenchmarkCompilePeers runs at; 0 is the
// same mesh without federation.
var benchPeers = []int{0, 1, 10, 50}

// BenchmarkCompilePeers is Load, Validate and Render of a federated mesh:
// 100 primaries sharing 200 services, with P peers that each take 10 of its
// services and give 10 of their own (exports are checked against
// spec.services, imports against the mesh's hosts).
func BenchmarkCompilePeers(b *testing.B) {
	anchor := peerAnchor(b)
	s := meshgen.Shape{Topology: meshgen.MultiPrimary, Clusters: 100, Services: 200, Federated: true}
	for _, peers := range benchPeers {
		data := withPeers(meshgen.Generate(s), s, peers, anchor)
		b.Run(fmt.Sprintf("%s/peers=%d", s, peers), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := compiler.Compile("mesh.yaml", data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// peerAnchor is a real root certificate, the one the east example trusts.
func peerAnchor(b *testing.B) string {
	m, err := compiler.Vet("east.yaml", mustRead(b, "../examples/federation-east/mesh.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	return m.Spec.Peers[0].TrustAnchor.PEM
}

// withPeers appends spec.peers to a generated mesh (spec is its last key).
func withPeers(data []byte, s meshgen.Shape, peers int, anchor string) []byte {
	if peers == 0 {
		return data
	}
	var buf bytes.Buffer
	buf.Write(data)
	buf.WriteString("  peers:\n")
	pem := "          " + strings.ReplaceAll(strings.TrimSpace(anchor), "\n", "\n          ")
	for p := range peers {
		fmt.Fprintf(&buf, "    - meshID: peer-%d\n      trustDomain: peer-%d.example.com\n      network: peer-%d-network\n", p, p, p)
		fmt.Fprintf(&buf, "      gateways:\n        - address: 203.0.113.%d\n      trustAnchor:\n        pem: |\n%s\n      exports:\n", 1+p%250, pem)
		for k := range 10 {
			svc := p*10 + k
			if svc%10 == 9 {
				svc++ // a cluster-local service is not exported
			}
			svc %= s.Services
			fmt.Fprintf(&buf, "        - host: svc-%04d.app-%02d.svc.cluster.local\n          ports:\n            - {name: http, port: 8080, protocol: HTTP}\n", svc, svc%s.Namespaces())
		}
		buf.WriteString("      imports:\n")
		for k := range 10 {
			fmt.Fprintf(&buf, "        - host: api-%d.peer-%d.svc.cluster.local\n          ports:\n            - {name: http, port: 8080, protocol: HTTP}\n          identities:\n            - spiffe://peer-%d.example.com/ns/peer-%d/sa/api-%d\n", k, p, p, p, k)
		}
	}
	return buf.Bytes()
}

// TestBenchPeersMeshIsValid keeps the benchmark's input honest: it compiles.
func TestBenchPeersMeshIsValid(t *testing.T) {
	s := meshgen.Shape{Topology: meshgen.MultiPrimary, Clusters: 3, Services: 20, Federated: true}
	m, err := compiler.Vet("east.yaml", mustRead(t, "../examples/federation-east/mesh.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	data := withPeers(meshgen.Generate(s), s, 2, m.Spec.Peers[0].TrustAnchor.PEM)
	if _, _, err := compiler.Compile("mesh.yaml", data); err != nil {
		t.Fatal(err)
	}
}
