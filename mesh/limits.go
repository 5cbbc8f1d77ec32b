package mesh

import (
	"fmt"

	"cuelang.org/go/cue/token"

	"meshc.dev/meshc/diag"
)

// Limits keep the cost of any input under MaxInputSize linear in its size:
// a mapping or list past them is reported before CUE, whose evaluation of
// a struct with thousands of fields is quadratic, sees it; reports and the
// plan, which grows with the square of the clusters, are capped.
const (
	// MaxKeys is the most keys one mapping may hold. A Mesh mapping holds
	// at most ten; labels and annotations a few dozen.
	MaxKeys = 256
	// MaxItems is the most items one list may hold: clusters, networks.
	MaxItems = 5000
	// MaxKeysTotal is the most keys the whole document may hold: ten per
	// cluster of the largest mesh, twice over. CUE spends about a
	// kilobyte and several microseconds on each.
	MaxKeysTotal = 20 * MaxItems
	// MaxItemsTotal is the most items all the document's lists may hold
	// together: each list is cut at MaxItems, but a list of lists is not.
	MaxItemsTotal = 20 * MaxItems
	// MaxNodes bounds the YAML tree, as yamlbound.Nodes counts it before
	// the document is parsed: a node can take one byte of input and costs
	// about 200 bytes parsed, so MaxInputSize alone would admit a
	// gigabyte of tree. A Mesh of MaxItems clusters counts about 85,000
	// (TestLargestMeshesFitTheLimits).
	MaxNodes = 1 << 19
	// MaxProblems is how many problems one input reports; a last line
	// says how many more there are.
	MaxProblems = 100
	// MaxRemoteSecrets is the most remote-secret steps a plan may hold.
	// P primaries in an N-cluster mesh need P×(N−1), so this caps the
	// plan's size (PLAN.md and plan.sh each take about 120 bytes a step)
	// and the time and memory to render it: 1000 primaries fit, in about a
	// gigabyte at most (the JSON plan).
	MaxRemoteSecrets = 1_000_000
)

// problemList keeps the first MaxProblems problems and counts the rest, so
// a file of a million bad keys costs a counter, not a million messages.
type problemList struct {
	ps      diag.Problems
	more    int
	morePos token.Position
}

func (l *problemList) add(p diag.Problem) {
	if len(l.ps) < MaxProblems {
		l.ps = append(l.ps, p)
		return
	}
	if l.more == 0 {
		l.morePos = p.Pos
	}
	l.more++
}

// full reports whether problems are being counted, not kept.
func (l *problemList) full() bool { return l.more > 0 }

// list is the kept problems in input order, then, if any were dropped, one
// saying how many.
func (l *problemList) list() diag.Problems {
	ps := l.ps
	ps.Sort()
	if l.more > 0 {
		ps = append(ps, moreProblems(l.more, l.morePos))
	}
	return ps
}

func moreProblems(n int, at token.Position) diag.Problem {
	return diag.Problem{Pos: at, Message: fmt.Sprintf("… and %d more problems (meshc reports the first %d; fix these and run again)", n, MaxProblems)}
}

// LimitProblems cuts a sorted list of problems to MaxProblems and a last
// one saying how many more there were. A list already cut (MaxProblems and
// that last one) is left as it is.
func LimitProblems(ps diag.Problems) diag.Problems {
	if len(ps) <= MaxProblems+1 {
		return ps
	}
	return append(ps[:MaxProblems:MaxProblems], moreProblems(len(ps)-MaxProblems, ps[MaxProblems].Pos))
}

// checkPlanSize reports a mesh whose plan would exceed MaxRemoteSecrets,
// before anything quadratic is built.
func checkPlanSize(m *Mesh) diag.Problems {
	primaries := 0
	for i := range m.Spec.Clusters {
		if m.Spec.Clusters[i].IsPrimary() {
			primaries++
		}
	}
	n := len(m.Spec.Clusters)
	if primaries*(n-1) <= MaxRemoteSecrets {
		return nil
	}
	return diag.Problems{{Pos: m.Pos("spec.clusters"), Path: "spec.clusters",
		Message: fmt.Sprintf("%d primaries each watching the other %d clusters need %d remote secrets; meshc plans at most %d (MaxRemoteSecrets): use fewer primaries (topology primary-remote) or split the mesh",
			primaries, n-1, primaries*(n-1), MaxRemoteSecrets)}}
}
