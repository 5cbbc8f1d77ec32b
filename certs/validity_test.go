package certs

import (
	"strings"
	"testing"
	"time"
)

// TestCheckValidity: a certificate whose dates are not the ones asked for,
// to the second, is refused, whatever made them differ.
func TestCheckValidity(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 30, 15, 0, time.UTC)
	root, _, err := newRoot(Options{KeyBits: 2048, RootValidity: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	from, to := now.Add(-backdate), now.Add(time.Hour)
	if err := checkValidity(root.cert, from.Add(999*time.Millisecond), to); err != nil {
		t.Errorf("dates equal to the second: %v", err)
	}
	// The dates asked for and the dates signed differ: refused.
	if err := checkValidity(root.cert, from, to.Add(time.Second)); err == nil || !strings.Contains(err.Error(), "not from") {
		t.Errorf("a root valid for an hour passed for one valid a second longer: %v", err)
	}
}
