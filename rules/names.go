package rules

import (
	"fmt"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
)

// nameSet is a list of names that a check compares the input with
// (declared networks, primaries, shared namespaces): whether a name is one,
// the list as a message shows it, and the one a misspelling was meant to
// be. A check builds it once, so each reference costs the same however
// long the list and however many references are wrong.
type nameSet struct {
	names  []string
	has    map[string]bool
	listed string
	// suggested remembers each misspelling's suggestion; after
	// MaxProblems of them, no more are worked out: no more are shown.
	suggested map[string]string
}

func newNameSet(names []string) *nameSet {
	s := &nameSet{names: names, has: make(map[string]bool, len(names)), listed: diag.ListNames(names), suggested: map[string]string{}}
	for _, n := range names {
		s.has[n] = true
	}
	return s
}

// Has reports whether name is in the set.
func (s *nameSet) Has(name string) bool { return s.has[name] }

// String is the list for a message: at most MaxListed names.
func (s *nameSet) String() string { return s.listed }

// Len is how many names the set holds, repeats included.
func (s *nameSet) Len() int { return len(s.names) }

// Suggest is diag.Suggest(name, the names), remembered.
func (s *nameSet) Suggest(name string) string {
	if sug, ok := s.suggested[name]; ok {
		return sug
	}
	if len(s.suggested) >= mesh.MaxProblems {
		return ""
	}
	sug := diag.Suggest(name, s.names)
	s.suggested[name] = sug
	return sug
}

// listNamesIn is diag.ListNames of the lists joined, without joining them.
func listNamesIn(lists [][]string) string {
	var first []string
	total := 0
	for _, l := range lists {
		total += len(l)
		if len(first) <= diag.MaxListed {
			first = append(first, l[:min(len(l), diag.MaxListed+1-len(first))]...)
		}
	}
	if total <= diag.MaxListed {
		return diag.ListNames(first)
	}
	return diag.ListNames(first[:diag.MaxListed]) + fmt.Sprintf(" and %d more", total-diag.MaxListed)
}
