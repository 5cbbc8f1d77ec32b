package yamlbound

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// parsed is the number of nodes yaml.v3 builds from data, over every
// document it decodes before the end or an error.
func parsed(data []byte) int {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	total := 0
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if err != nil {
			return total
		}
		total += count(&doc)
	}
}

func count(n *yaml.Node) int {
	c := 1
	for _, k := range n.Content {
		c += count(k)
	}
	return c
}

// seeds are inputs dense in nodes or odd in syntax: empty values, indicators
// glued to quoted scalars, multi-byte line breaks, documents, UTF-16.
var seeds = []string{
	"", "a", "{a,b,c}", "{a, b, c}", "[a,b,c]", "[[],[],[]]", "[{},{},{}]", "{? a, ? b}",
	"-\n-\n-\n", "- - - -\n", "-", "- ", ":", ": ", ":\n:\n", "? \n? \n", "? : \n",
	"[? ]", "[: ]", "[a: ]", "[:a]", `{"a":b}`, `["a":b, "c":d]`, `"a"b`, `{"a""b": c}`,
	"---\n---\n---\n", "--- \n...\n---\n", "a\n...\nb\n...\nc\n", "&a\n", "!t\n", "- &a\n- *a\n",
	"a: &x [1, 2]\nb: *x\n", "k: |\n  a: b\n  c: d\n", "k: 'a: b, [c]'\n", "# x: [y]\nk: v\n",
	"- a\u2028- b\u2028- c", "- a\u0085- b", "a:\u2028-\u2028-", "\xef\xbb\xbf- a\n- b\n",
	"\xff\xfe-\x00\n\x00-\x00\n\x00", "\xfe\xff\x00[\x00a\x00,\x00b\x00]",
	"a:\n- b\n- c\nd: e\n", "a:\n  - ? x\n    : y\n", "%YAML 1.1\n---\n- a\n", "{a: {b: {c: [d, {e}]}}}",
	strings.Repeat("---\n", 50), strings.Repeat("--- \n...\n", 50), strings.Repeat("-\n", 50), strings.Repeat(": \n", 50),
	strings.Repeat("? \n", 50), strings.Repeat("- &a\n", 50), strings.Repeat("[a: ]", 50), strings.Repeat("{a,", 50),
	"- [a, b]: c\n", "? [a, b]\n: c\n", "a: b\n  c: d\n", "- -\n  -\n- -\n",
}

// TestNodesBoundsTheParser: the bound is never below what the parser
// builds, on the seeds, every golden file and every example.
func TestNodesBoundsTheParser(t *testing.T) {
	check := func(name string, data []byte) {
		t.Helper()
		if got, want := Nodes(data), parsed(data); got < want {
			t.Errorf("%s: Nodes = %d, but yaml.v3 builds %d nodes from %q", name, got, want, data)
		}
	}
	for _, s := range seeds {
		check("seed", []byte(s))
	}
	n := 0
	for _, dir := range []string{"../../golden", "../../examples"} {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			check(p, data)
			n++
			return nil
		})
	}
	if n < 50 {
		t.Fatalf("found only %d YAML files under golden/ and examples/", n)
	}
}

// TestNodesExact: on the densest inputs the bound is the parser's count, so
// a limit on it is a limit on the tree; on Kubernetes manifests it is within
// three times the true count, so a limit sized for real input refuses
// little of it.
func TestNodesExact(t *testing.T) {
	dense := "{" + strings.Repeat("a,", 999) + "a}"
	if got, want := Nodes([]byte(dense)), parsed([]byte(dense)); got > want+slack {
		t.Errorf("{a,a,…}: Nodes = %d, want at most the parser's %d plus %d", got, want, slack)
	}
	var all []byte
	filepath.WalkDir("../../golden", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(p, "/manifests/") && strings.HasSuffix(p, ".yaml") {
			data, _ := os.ReadFile(p)
			all = append(append(all, data...), "\n---\n"...)
		}
		return err
	})
	got, want := Nodes(all), parsed(all)
	if want < 2000 || got > 3*want {
		t.Errorf("golden manifests: Nodes = %d for %d parsed nodes; want at most three times as many", got, want)
	}
	t.Logf("golden manifests: %d bytes, %d nodes, bound %d (%.2f×)", len(all), want, got, float64(got)/float64(want))
}

// TestNodesTokenSoup: strings of YAML's significant fragments, where a
// byte fuzzer seldom goes, are never bounded below their parse.
func TestNodesTokenSoup(t *testing.T) {
	frags := []string{"-", "- ", " ", "  ", "\n", ":", ": ", "?", "? ", ",", "[", "]", "{", "}", "a", "b c", "\"", "'",
		"\"x\"", "'y'", "&a ", "*a", "!t ", "#", " #c", "---", "...", "|", ">", "\t", "\u2028", "\u0085", "\r\n", "%"}
	r := rand.New(rand.NewPCG(1, 2))
	samples := 200000
	if testing.Short() {
		samples = 20000
	}
	for range samples {
		var b strings.Builder
		for range 1 + r.IntN(24) {
			b.WriteString(frags[r.IntN(len(frags))])
		}
		data := []byte(b.String())
		if got, want := Nodes(data), parsed(data); got < want {
			t.Fatalf("Nodes = %d, but yaml.v3 builds %d nodes from %q", got, want, data)
		}
	}
}

func FuzzNodes(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := Nodes(data), parsed(data); got < want {
			t.Fatalf("Nodes = %d, but yaml.v3 builds %d nodes from %q", got, want, data)
		}
	})
}
