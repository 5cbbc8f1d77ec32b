package diag

import (
	"strings"
)

// Suggest returns the candidate closest to name when it is close enough to
// be a typo (edit distance at most 2, or equal ignoring case), else "":
// among equals, the first in sorted order. One pass over the candidates;
// a check comparing many names with one list uses a nameSet, which
// remembers its answers.
func Suggest(name string, candidates []string) string {
	lname := strings.ToLower(name)
	best, bestD, fold := "", maxTypo+1, ""
	for _, c := range candidates {
		if strings.EqualFold(c, name) {
			if fold == "" || c < fold {
				fold = c
			}
			continue
		}
		if d := typoDistance(lname, strings.ToLower(c)); d < bestD || d == bestD && d <= maxTypo && c < best {
			best, bestD = c, d
		}
	}
	if fold != "" {
		return fold
	}
	return best
}

// maxTypo is the largest edit distance Suggest takes for a typo.
const maxTypo = 2

// typoDistance is the Levenshtein distance between a and b when it is at
// most maxTypo, else maxTypo+1: it stops as soon as the answer is known to
// be larger, so comparing a name with thousands of others costs little.
func typoDistance(a, b string) int {
	if len(a)-len(b) > maxTypo || len(b)-len(a) > maxTypo {
		return maxTypo + 1
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		low := i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			low = min(low, cur[j])
		}
		if low > maxTypo {
			return maxTypo + 1
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], maxTypo+1)
}
