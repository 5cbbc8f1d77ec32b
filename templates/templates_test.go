package templates

import (
	"os/exec"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestStringRoundTrips checks that every string String emits reads back as
// the same string, including the ones YAML would otherwise turn into
// booleans, numbers or null.
func TestStringRoundTrips(t *testing.T) {
	for _, s := range []string{
		"network1", "no", "No", "on", "off", "yes", "y", "true", "null", "~", "123", "1e3", "0x1f",
		"192.0.2.10", "2001:db8::1", "istiod.example.com", "a b", "-x", "x: y", "#x", "", "kind-mesh",
		"arn:aws:eks:eu-west-1:123:cluster/one",
	} {
		var got map[string]any
		if err := yaml.Unmarshal([]byte("k: "+String(s)+"\n"), &got); err != nil {
			t.Errorf("String(%q) = %s: %v", s, String(s), err)
			continue
		}
		if got["k"] != s {
			t.Errorf("String(%q) = %s reads back as %#v", s, String(s), got["k"])
		}
	}
}

// TestShellQuotes runs each quoted word through a real shell.
func TestShellQuotes(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, s := range []string{"cluster1", "arn:aws:eks:eu-west-1:123:cluster/one", "a b", "it's", "$HOME", "`x`", "a;b", "*"} {
		out, err := exec.Command(sh, "-c", "printf %s "+Shell(s)).Output()
		if err != nil || string(out) != s {
			t.Errorf("Shell(%q) = %s: shell read %q (%v)", s, Shell(s), out, err)
		}
	}
}
