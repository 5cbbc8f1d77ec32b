package compiler_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
)

// invisible holds, for every kind of character that shows as nothing, as a
// space, or not at all as what it is, one or more examples: text holding
// one reads differently from what a program does with it (UnsafeRune).
var invisible = []struct {
	what string
	r    rune
}{
	{"C0 control: escape", 0x1b},
	{"C0 control: carriage return", '\r'},
	{"C0 control: tab", '\t'},
	{"DEL", 0x7f},
	{"C1 control: next line", 0x85},
	{"C1 control: CSI", 0x9b},
	{"format: soft hyphen", 0xad},
	{"format: Arabic letter mark", 0x61c},
	{"format: Mongolian vowel separator", 0x180e},
	{"format: zero width space", 0x200b},
	{"format: zero width non-joiner", 0x200c},
	{"format: zero width joiner", 0x200d},
	{"format: left-to-right mark", 0x200e},
	{"format: right-to-left mark", 0x200f},
	{"bidi: left-to-right embedding", 0x202a},
	{"bidi: right-to-left override", 0x202e},
	{"format: word joiner", 0x2060},
	{"format: invisible times", 0x2062},
	{"bidi: left-to-right isolate", 0x2066},
	{"bidi: pop directional isolate", 0x2069},
	{"format: inhibit symmetric swapping", 0x206a},
	{"format: byte order mark", 0xfeff},
	{"format: interlinear annotation anchor", 0xfff9},
	{"format: language tag", 0xe0001},
	{"format: tag latin capital letter a", 0xe0041},
	{"line separator", 0x2028},
	{"paragraph separator", 0x2029},
	{"space: no-break space", 0xa0},
	{"space: ogham space mark", 0x1680},
	{"space: en quad", 0x2000},
	{"space: hair space", 0x200a},
	{"space: narrow no-break space", 0x202f},
	{"space: medium mathematical space", 0x205f},
	{"space: ideographic space", 0x3000},
	{"ignorable: combining grapheme joiner", 0x34f},
	{"ignorable: Hangul choseong filler", 0x115f},
	{"ignorable: Hangul filler", 0x3164},
	{"ignorable: halfwidth Hangul filler", 0xffa0},
	{"ignorable: Khmer vowel inherent aq", 0x17b4},
	{"blank: braille pattern blank", 0x2800},
	{"variation selector 16", 0xfe0f},
	{"variation selector 17", 0xe0100},
	{"Mongolian free variation selector", 0x180b},
	{"private use", 0xe000},
	{"supplementary private use", 0xf0000},
	{"noncharacter U+FFFE", 0xfffe},
	{"noncharacter U+FFFF", 0xffff},
	{"noncharacter U+10FFFF", 0x10ffff},
	{"unassigned", 0x378},
}

// TestInvisibleCharacters puts each invisible character into every string
// field the schema has (keys of label maps included), in turn, and requires
// Load to refuse each field at its own line and column, naming the
// character. The rich meshes must between them set every string field, so
// a field added to the schema is tried too. Annotations, which meshc never
// writes out, may hold anything: the test proves they never reach the output.
func TestInvisibleCharacters(t *testing.T) {
	fields, maps := schemaStrings()
	covered := map[string]bool{}
	for _, file := range richMeshes {
		for _, c := range invisible {
			doc := parseMesh(t, file)
			marks := map[string]string{}
			seen := map[string]bool{}
			for i, s := range scalars(doc, maps) {
				if !fields[s.norm] || s.norm == annotationsPath || seen[s.norm] {
					continue
				}
				seen[s.norm], covered[s.norm] = true, true
				mark := fmt.Sprintf("QQ%dQQ", i)
				marks[mark] = yamlEscape(c.r)
				rs := []rune(s.n.Value)
				s.n.Value = string(rs[:len(rs)/2]) + mark + string(rs[len(rs)/2:])
				s.n.Style = yaml.DoubleQuotedStyle
			}
			data := encodeYAML(t, doc, marks)
			var want []string
			var back yaml.Node
			if err := yaml.Unmarshal(data, &back); err != nil {
				t.Fatalf("%s with %s: %v", file, c.what, err)
			}
			for _, s := range scalars(&back, maps) {
				if strings.ContainsRune(s.n.Value, c.r) {
					want = append(want, fmt.Sprintf("in.yaml:%d:%d: %s: U+%04X", s.n.Line, s.n.Column, s.path, c.r))
				}
			}
			if len(want) != len(marks) {
				t.Fatalf("%s with %s: %d values hold the character, want %d", file, c.what, len(want), len(marks))
			}
			_, err := mesh.Load("in.yaml", data)
			var ps diag.Problems
			if !errors.As(err, &ps) {
				t.Errorf("%s with %s (U+%04X) in every field: err = %v, want a problem for each", file, c.what, c.r, err)
				continue
			}
			var got []string
			for _, p := range ps {
				code := fmt.Sprintf("U+%04X", c.r)
				if !strings.Contains(p.Message, code) {
					code = "message does not name " + code + ": " + p.Message
				}
				got = append(got, fmt.Sprintf("%s:%d:%d: %s: %s", p.Pos.Filename, p.Pos.Line, p.Pos.Column, p.Path, code))
			}
			slices.Sort(got)
			slices.Sort(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s with %s (U+%04X) in every field: problems (-want +got):\n%s", file, c.what, c.r, diff)
			}
		}
	}
	for _, f := range slices.Sorted(func(yield func(string) bool) {
		for f := range fields {
			if !yield(f) {
				return
			}
		}
	}) {
		if !covered[f] && f != annotationsPath {
			t.Errorf("no rich mesh sets %s: add it to testdata/hostile so that it is tried", f)
		}
	}
	t.Run("annotations", testAnnotationsNeverWritten)
}

// testAnnotationsNeverWritten: an annotation may hold any text, because no
// byte of it reaches a rendered file.
func testAnnotationsNeverWritten(t *testing.T) {
	const value = "carried\nnever \u202ewritten\u200b"
	for _, file := range richMeshes {
		doc := parseMesh(t, file)
		_, maps := schemaStrings()
		n := 0
		for _, s := range scalars(doc, maps) {
			if s.norm == annotationsPath {
				s.n.Value, s.n.Style = "QQANNOTATIONQQ", yaml.DoubleQuotedStyle
				n++
			}
		}
		if n == 0 {
			t.Fatalf("%s has no annotation", file)
		}
		data := encodeYAML(t, doc, map[string]string{"QQANNOTATIONQQ": `carried\nnever \u202Ewritten\u200B`})
		m, out, err := compiler.Compile("in.yaml", data)
		if err != nil {
			t.Fatalf("%s with an annotation holding %q: %v", file, value, err)
		}
		if got := m.Metadata.Annotations["note"]; got != value {
			t.Fatalf("%s: annotation reads %q, want %q", file, got, value)
		}
		for _, f := range out.Files {
			for _, part := range strings.Split(value, "\n") {
				if bytes.Contains(f.Data, []byte(part)) {
					t.Errorf("%s: %s holds the annotation's text %q", file, f.Path, part)
				}
			}
		}
	}
}
