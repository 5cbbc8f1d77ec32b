package conformance

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"meshc.dev/meshc/internal/meshgen"
)

// TestBehaviourGeneratedPeers is the property test of federation: pairs of
// meshes drawn by meshgen.Peers (several networks on both sides, some
// services missing from some networks, VMs of both kinds, both topologies),
// each checked on its own and then both together. What must hold comes
// from the two Mesh files, as for every other mesh.
//
// It runs seeds 0 to 5; MESHC_PEER_SEEDS=n runs seeds 0 to n-1, and
// MESHC_PEER_SEED=n seed n alone, to reproduce a failure. A failing seed is
// in the subtest's name and its message.
func TestBehaviourGeneratedPeers(t *testing.T) {
	seeds := []uint64{0, 1, 2, 3, 4, 5}
	if v := os.Getenv("MESHC_PEER_SEEDS"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("MESHC_PEER_SEEDS=%q: %v", v, err)
		}
		seeds = nil
		for s := range n {
			seeds = append(seeds, s)
		}
	}
	if v := os.Getenv("MESHC_PEER_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("MESHC_PEER_SEED=%q: %v", v, err)
		}
		seeds = []uint64{n}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			a, b := meshgen.Peers(seed)
			ma, dirA := renderMesh(t, "peers-a.yaml", a)
			mb, dirB := renderMesh(t, "peers-b.yaml", b)
			fail := func(what string, err error) {
				t.Errorf("seed %d: %s (reproduce: MESHC_PEER_SEED=%d go test -run TestBehaviourGeneratedPeers; the Mesh files are meshgen.Peers(%d)):\n%v",
					seed, what, seed, seed, err)
			}
			if err := VerifyBehaviour(ma, dirA); err != nil {
				fail("side a does not work", err)
			}
			if err := VerifyBehaviour(mb, dirB); err != nil {
				fail("side b does not work", err)
			}
			if err := VerifyPeers(ma, dirA, mb, dirB); err != nil {
				fail("the two sides do not work together", err)
			}
		})
	}
}
