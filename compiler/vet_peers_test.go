package compiler_test

import (
	"path/filepath"
	"strings"
	"testing"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/internal/cases"
	"meshc.dev/meshc/internal/golden"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/rules"
)

// peersDir holds the cases of VetPeers: txtar archives of several Mesh
// files, each valid alone, and a want section with the problems meshc vet
// reports when given them together. MESHC_UPDATE=1 rewrites want.
const peersDir = "testdata/peers"

func TestVetPeers(t *testing.T) {
	peers, err := cases.ReadDir(peersDir)
	if err != nil || len(peers) == 0 {
		t.Fatalf("reading %s: %v", peersDir, err)
	}
	for _, c := range peers {
		t.Run(c.Name(), func(t *testing.T) {
			if len(c.Inputs) < 2 {
				t.Fatalf("%s: want two or more Mesh files and a %q section", c.Path, cases.Want)
			}
			var meshes []*mesh.Mesh
			for _, f := range c.Inputs {
				m, err := compiler.Vet(f.Name, f.Data)
				if err != nil {
					t.Fatalf("%s must be valid alone: %v", f.Name, err)
				}
				meshes = append(meshes, m)
			}
			got := rules.VetPeers(meshes)
			if len(got) == 0 {
				t.Errorf("%s: the meshes agree; a case must fail", c.Path)
			}
			var lines []string
			for _, p := range got {
				lines = append(lines, p.String())
			}
			golden.Want(t, c, cases.Lines(lines))
		})
	}
}

// TestFederationExamplesAgree: each pair of federation examples, vetted
// together, has nothing to report: east and west on one network each, and
// north and south on two, where each import dials only the gateways of the
// networks its peer runs it on.
func TestFederationExamplesAgree(t *testing.T) {
	for _, pair := range [][]string{{"federation-east", "federation-west"}, {"federation-north", "federation-south"}} {
		vetTogether(t, pair)
	}
}

func vetTogether(t *testing.T, pair []string) {
	t.Helper()
	var meshes []*mesh.Mesh
	for _, ex := range pair {
		p := filepath.Join("../examples", ex, "mesh.yaml")
		m, err := compiler.Vet(p, mustRead(t, p))
		if err != nil {
			t.Fatal(err)
		}
		meshes = append(meshes, m)
	}
	if ps := rules.VetPeers(meshes); len(ps) > 0 {
		t.Errorf("the federation examples disagree:\n%v", ps)
	}
}

// peerCaseRules lists the rule IDs the peer cases' want sections name.
func peerCaseRules(t testing.TB) string {
	peers, err := cases.ReadDir(peersDir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range peers {
		b.Write(c.Want)
	}
	return b.String()
}

// changeCaseRules is the want sections of the change cases: a refusal
// ends with its rule's ID.
func changeCaseRules(t testing.TB) string {
	changes, err := cases.ReadDir("testdata/changes")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range changes {
		b.Write(c.Want)
	}
	return b.String()
}

// TestVetPeersAcceptsGatewaysOfRunningNetworks: a peer entry written without
// gateway networks may list only the peer's gateways of the networks where
// the peer runs what this mesh imports; vetted against the peer's file, that
// subset is what the import must dial, and nothing is reported. Listing the
// other network's gateway too is a problem.
func TestVetPeersAcceptsGatewaysOfRunningNetworks(t *testing.T) {
	north := string(mustRead(t, "../examples/federation-north/mesh.yaml"))
	south := string(mustRead(t, "../examples/federation-south/mesh.yaml"))
	// north imports only reviews, which south runs on net2: it lists south's
	// net2 gateway alone. south imports checkout, which north runs on net2.
	i, j := strings.Index(north, "        # ratings runs"), strings.Index(north, "bookinfo-ratings\n")+len("bookinfo-ratings\n")
	north = north[:i] + north[j:]
	north = strings.Replace(north, "        - address: \"198.51.100.30\"\n        - address: \"198.51.100.40\"\n          network: south-net2\n", "        - address: \"198.51.100.40\"\n", 1)
	north = strings.Replace(north, "          networks: [south-net2]\n", "", 1)
	south = strings.Replace(south, "        - address: \"192.0.2.30\"\n        - address: \"192.0.2.40\"\n          network: north-net2\n", "        - address: \"192.0.2.40\"\n", 1)
	south = strings.Replace(south, "          networks: [north-net2]\n", "", 1)
	vet := func(north, south string) diag.Problems {
		var meshes []*mesh.Mesh
		for name, data := range map[string]string{"north.yaml": north, "south.yaml": south} {
			m, err := compiler.Vet(name, []byte(data))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			meshes = append(meshes, m)
		}
		return rules.VetPeers(meshes)
	}
	if strings.Contains(north+south, "network: south-net2") || strings.Contains(north+south, "network: north-net2") || strings.Contains(north+south, "networks: [") {
		t.Fatal("the subset entries still name networks")
	}
	if ps := vet(north, south); len(ps) > 0 {
		t.Errorf("the gateways of the networks that run the imports are refused:\n%v", ps)
	}
	both := strings.Replace(north, "        - address: \"198.51.100.40\"\n", "        - address: \"198.51.100.30\"\n        - address: \"198.51.100.40\"\n", 1)
	if ps := vet(both, south); !strings.Contains(ps.Error(), "runs reviews.bookinfo.svc.cluster.local only on network net2") {
		t.Errorf("a gateway of a network that does not run the import is not reported: %v", ps)
	}
}
