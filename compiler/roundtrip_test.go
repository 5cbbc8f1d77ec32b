package compiler_test

import (
	"bytes"
	"encoding/pem"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/mesh"
)

// hostileValues maps each marker of the rich meshes to a value the schema
// accepts that a renderer which pasted text would turn into something else:
// YAML indicators, quotes of both kinds, shell syntax, comment starts,
// flow collections. Keys are whole values or parts of values.
var hostileValues = map[string]string{
	"ctxmarker1": `arn:aws:eks:us-east-1:1:cluster/a'b"c$(touch${IFS}x)`,
	"ctxmarker2": `*x&y!z|{a}[b]%c@d#e`,
	"ctxmarker3": "gke_p_z_c;rm\\-rf~`id`é",
	"ctxmarker4": `?x:y,#z>w<v`,

	"https://apimarker1.example.com:6443":             "https://API-1.example.com:6443/k8s/clusters/c-m_x.~%7E",
	"https://apimarker2.example.com:6443/pathmarker2": "https://10.0.0.2:6443/",
	"https://apimarker3.example.com":                  "https://x--y.example.com",
	"https://apimarker4.example.com:443":              "https://203.0.113.4:443/a/b/",

	"https://git.example.com/repomarker.git":   "https://git.example.com/~team/fleet_repo%20x.git",
	"ssh://git@git.example.com/repomarker.git": "ssh://git@git.example.com:7999/~team/fleet.repo-x.git",
	"revisionmarker": `release/1.2'a"b$c&d!e|f>g<h(i)j{k}l#m%n;o=p,q+r@s`,
	"/probemarker":   `/healthz?x=1&y='a' "b" #c: d {e} [f] *g &h !i |j >k %l @m \n`,
	"labelmarker":    "a: b #c 'd'",
}

// hostileOverrides are hostileValues particular to one rich mesh: an IPv6
// API server where Argo CD does not read it as a pattern.
var hostileOverrides = map[string]map[string]string{
	"testdata/hostile/rich-istioctl.yaml": {"https://apimarker2.example.com:6443/pathmarker2": "https://[2001:db8::2]:6443/"},
}

// hostileMesh is a rich mesh with hostileValues in place of its markers and
// a trust anchor padded with what a PEM may hold around its certificates:
// headers, blank lines, spaces.
func hostileMesh(t testing.TB, file string) (data []byte, values map[string]string) {
	t.Helper()
	values = maps.Clone(hostileValues)
	maps.Copy(values, hostileOverrides[file])
	markers := slices.SortedFunc(maps.Keys(values), func(a, b string) int { return len(b) - len(a) })
	doc := parseMesh(t, file)
	_, mapFields := schemaStrings()
	for _, s := range scalars(doc, mapFields) {
		v := s.n.Value
		for _, m := range markers {
			v = strings.ReplaceAll(v, m, values[m])
		}
		if s.norm == "spec.peers[].trustAnchor.pem" {
			v = paddedPEM(v)
		}
		if v != s.n.Value {
			s.n.Value, s.n.Style = v, yaml.DoubleQuotedStyle
		}
	}
	return encodeYAML(t, doc, nil), values
}

// paddedPEM is p with a header in every block, spaces around every line of
// base64 and blank lines between blocks: the same certificates.
func paddedPEM(p string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(p, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "-----BEGIN"):
			b.WriteString(line + "\nX-Note: y: {z: w} #c\nX-Injected: \"a\" 'b' [d] |e >f\n\n")
		case strings.HasPrefix(line, "-----END"):
			b.WriteString(line + "\n  \n\n")
		default:
			b.WriteString("  " + line + "  \n")
		}
	}
	return b.String()
}

// canonicalPEM is the certificates of p, PEM-encoded and nothing else: what
// a trust anchor means.
func canonicalPEM(t testing.TB, p string) string {
	t.Helper()
	var b bytes.Buffer
	rest := []byte(p)
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if err := pem.Encode(&b, &pem.Block{Type: blk.Type, Bytes: blk.Bytes}); err != nil {
			t.Fatal(err)
		}
	}
	if b.Len() == 0 {
		t.Fatalf("no PEM block in %q", p)
	}
	return b.String()
}

// TestRenderedYAMLRoundTrips renders each rich mesh twice, with its plain
// markers and with hostile values in their place, decodes every document of
// every YAML file of both (and the YAML documents inside their strings,
// such as kubeconfigs), and requires the two to have the same shape: the
// same keys, the same types, and every string of the hostile render equal
// to the plain one with each marker replaced by its value. A value that
// added a key, ended a block, changed a type or lost a character fails. The
// trust anchors must read back as their certificates and nothing else.
func TestRenderedYAMLRoundTrips(t *testing.T) {
	for _, file := range richMeshes {
		t.Run(strings.TrimSuffix(strings.TrimPrefix(file, "testdata/hostile/"), ".yaml"), func(t *testing.T) {
			_, plain, err := compiler.Compile(file, mustRead(t, file))
			if err != nil {
				t.Fatal(err)
			}
			data, values := hostileMesh(t, file)
			m, hostile, err := compiler.Compile(file, data)
			if err != nil {
				t.Fatalf("hostile values refused: %v\n%s", err, data)
			}
			anchors := map[string]bool{}
			var all []*mesh.TrustAnchor
			for i := range m.Spec.Peers { // an ambient mesh has no peers (MC087)
				all = append(all, &m.Spec.Peers[i].TrustAnchor)
			}
			for _, a := range append(all, m.Spec.CA.Root, m.Spec.CA.PreviousRoot) {
				if a != nil {
					anchors[canonicalPEM(t, a.PEM)] = true
				}
			}
			markers := slices.SortedFunc(maps.Keys(values), func(a, b string) int { return len(b) - len(a) })
			rc := &yamlRoundTrip{t: t, trusted: anchors, subst: func(s string) string {
				for _, k := range markers {
					s = strings.ReplaceAll(s, k, values[k])
				}
				return s
			}}
			var paths []string
			for _, f := range plain.Files {
				paths = append(paths, f.Path)
			}
			var hostilePaths []string
			for _, f := range hostile.Files {
				hostilePaths = append(hostilePaths, f.Path)
			}
			if !slices.Equal(paths, hostilePaths) {
				t.Fatalf("hostile values change the files rendered:\n%v\n%v", paths, hostilePaths)
			}
			files := 0
			for _, f := range plain.Files {
				if !strings.HasSuffix(f.Path, ".yaml") {
					continue
				}
				files++
				rc.compareStreams(f.Path, f.Data, hostile.Lookup(f.Path).Data)
			}
			if files < 20 || len(m.Spec.Peers) > 0 && rc.anchors == 0 {
				t.Fatalf("compared %d YAML files and %d trust anchors; the rich mesh should render far more", files, rc.anchors)
			}
		})
	}
}

type yamlRoundTrip struct {
	t *testing.T
	// trusted are the mesh's roots and peers' anchors, as PEM re-encoded.
	trusted map[string]bool
	subst   func(string) string
	anchors int
}

// compareStreams compares every document of two YAML streams.
func (rc *yamlRoundTrip) compareStreams(where string, plain, hostile []byte) {
	pd, hd := yaml.NewDecoder(bytes.NewReader(plain)), yaml.NewDecoder(bytes.NewReader(hostile))
	for i := 0; ; i++ {
		var p, h yaml.Node
		perr, herr := pd.Decode(&p), hd.Decode(&h)
		if errors.Is(perr, io.EOF) && errors.Is(herr, io.EOF) {
			return
		}
		if perr != nil || herr != nil {
			rc.t.Errorf("%s: document %d: plain: %v; hostile: %v", where, i, perr, herr)
			return
		}
		rc.compare(where, &p, &h)
	}
}

func (rc *yamlRoundTrip) compare(where string, p, h *yaml.Node) {
	t := rc.t
	if p.Kind != h.Kind {
		t.Errorf("%s (line %d): %s with hostile values, %s with plain ones", where, h.Line, kindName(h), kindName(p))
		return
	}
	switch p.Kind {
	case yaml.DocumentNode, yaml.SequenceNode, yaml.MappingNode:
		if len(p.Content) != len(h.Content) {
			t.Errorf("%s (line %d): %d entries with hostile values, %d with plain ones", where, h.Line, len(h.Content), len(p.Content))
			return
		}
		for i := range p.Content {
			rc.compare(where, p.Content[i], h.Content[i])
		}
	case yaml.ScalarNode:
		want := rc.subst(p.Value)
		if strings.Contains(h.Value, "-----BEGIN") {
			rc.anchors++
			// One of the mesh's anchors, and the one the plain render has.
			if want = canonicalPEM(t, p.Value); !rc.trusted[want] {
				t.Errorf("%s:%d:%d: a certificate that is none of the mesh's roots or peers' anchors", where, p.Line, p.Column)
			}
		}
		if h.ShortTag() != p.ShortTag() || h.Value != want {
			if strings.Contains(want+h.Value, "\n") {
				t.Errorf("%s:%d:%d: reads %s, want %s; lines (-want +got):\n%s", where, h.Line, h.Column, h.ShortTag(), p.ShortTag(),
					cmp.Diff(strings.Split(want, "\n"), strings.Split(h.Value, "\n")))
			} else {
				t.Errorf("%s:%d:%d: reads %s %q, want %s %q", where, h.Line, h.Column, h.ShortTag(), h.Value, p.ShortTag(), want)
			}
			return
		}
		// YAML inside a string (a kubeconfig in a Secret) is compared as
		// YAML too.
		if strings.Contains(p.Value, "\n") && strings.Contains(p.Value, ": ") {
			var pe, he yaml.Node
			if yaml.Unmarshal([]byte(p.Value), &pe) == nil && len(pe.Content) == 1 && pe.Content[0].Kind == yaml.MappingNode {
				if err := yaml.Unmarshal([]byte(h.Value), &he); err != nil {
					t.Errorf("%s:%d:%d: embedded YAML no longer parses: %v", where, h.Line, h.Column, err)
					return
				}
				rc.compare(where+" (embedded YAML)", &pe, &he)
			}
		}
	default:
		t.Errorf("%s (line %d): unexpected %s", where, h.Line, kindName(h))
	}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.DocumentNode:
		return "a document"
	case yaml.SequenceNode:
		return "a sequence"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		return "a scalar"
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}
