package templates

import (
	"math/rand/v2"
	"os/exec"
	"regexp"
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

// The quoting functions were first written as these regular expressions;
// the loops that replaced them (for speed) must accept exactly the same
// strings.
var (
	plainScalarRE = regexp.MustCompile(`^[a-zA-Z][-a-zA-Z0-9._/]*$`)
	shellSafeRE   = regexp.MustCompile(`^[-a-zA-Z0-9._/:=@+,]+$`)
)

func TestQuotingMatchesRegexps(t *testing.T) {
	inputs := []string{"", "a", "Z", "0", "9a", "a9", "-a", "a-", "cluster1", "kind-cluster1", "c.b/a", "a b", "a'b",
		"a:b", "a=b", "a@b", "a+b", "a,b", "é", "aé", "a\x00", "a\n", "null", "NO", "~", "on", "1.28.0", "192.0.2.10"}
	// Every string of up to two characters from an alphabet holding each
	// character class the patterns distinguish, plus random longer ones.
	alphabet := []rune("aZ09-._/:=@+, '\"\\\n\tÿé\x00")
	for _, a := range alphabet {
		inputs = append(inputs, string(a))
		for _, b := range alphabet {
			inputs = append(inputs, string([]rune{a, b}))
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		n := 1 + r.IntN(8)
		s := make([]rune, n)
		for i := range s {
			s[i] = alphabet[r.IntN(len(alphabet))]
		}
		inputs = append(inputs, string(s))
	}
	for _, s := range inputs {
		if got, want := plainScalar(s), plainScalarRE.MatchString(s); got != want {
			t.Errorf("plainScalar(%q) = %v, want %v", s, got, want)
		}
		wantShell := s
		if !shellSafeRE.MatchString(s) {
			wantShell = "'" + regexp.MustCompile(`'`).ReplaceAllString(s, `'\''`) + "'"
		}
		if got := Shell(s); got != wantShell {
			t.Errorf("Shell(%q) = %q, want %q", s, got, wantShell)
		}
	}
}
