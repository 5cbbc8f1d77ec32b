package render

import (
	"os/exec"
	"strings"
	"testing"
)

// The checks a plan runs before it deletes stop plan.sh (set -euo
// pipefail) when what they list is not empty, and when the kubectl that
// lists it fails: in an && list, set -e would pass over the failure and the
// deletion after the check would run unchecked.
func TestChecksStopThePlan(t *testing.T) {
	for _, tc := range []struct {
		name, check string
		stops       bool
	}{
		{"nothing left", stopIfAny("true", "plan: left"), false},
		{"something left", stopIfAny("echo pod/x", "plan: left"), true},
		{"the list fails", stopIfAny("false", "plan: left"), true},
		{"the list fails after output", stopIfAny("echo pod/x && false", "plan: left"), true},
		{"nothing left, waiting", stopIfAnyAfter("true", "plan: left", 2), false},
		{"something stays, waiting", stopIfAnyAfter("echo pod/x", "plan: left", 2), true},
		{"the list fails, waiting", stopIfAnyAfter("false", "plan: left", 2), true},
	} {
		out, err := exec.Command("bash", "-c", "set -euo pipefail\n"+tc.check+"\necho deleted").CombinedOutput()
		if stopped := err != nil && !strings.Contains(string(out), "deleted"); stopped != tc.stops {
			t.Errorf("%s: %s\nstopped the script: %v, want %v (exit %v)\n%s", tc.name, tc.check, stopped, tc.stops, err, out)
		}
		if tc.stops && !strings.Contains(tc.name, "fails") && !strings.Contains(string(out), "plan: left") {
			t.Errorf("%s: stopped without saying why\n%s", tc.name, out)
		}
	}
}
