package diagram

import "testing"

// TestFitKeepsBothEnds: a cut name keeps its start and its end, so two EKS
// contexts that differ only in the cluster's name stay apart in the
// picture, and it is never longer than asked.
func TestFitKeepsBothEnds(t *testing.T) {
	a := "arn:aws:eks:eu-west-1:123456789012:cluster/payments-prod-a"
	b := "arn:aws:eks:eu-west-1:123456789012:cluster/payments-prod-b"
	for n := 3; n < len(a); n++ {
		fa, fb := fit(a, n), fit(b, n)
		if fa == fb {
			t.Errorf("fit(_, %d): both read %q", n, fa)
		}
		if got := len([]rune(fa)); got != n {
			t.Errorf("fit(_, %d) = %q, %d characters", n, fa, got)
		}
	}
	if got := fit(a, len(a)); got != a {
		t.Errorf("fit of a name that fits = %q", got)
	}
	if got, want := fit("abcdefghij", 7), "abc…hij"; got != want {
		t.Errorf("fit = %q, want %q", got, want)
	}
}
