package mesh

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"meshc.dev/meshc/diag"
)

// UnsafeRune reports a character no value meshc reads or writes may hold,
// because text holding it reads differently from what a program does with
// it:
//   - control characters (C0, DEL, C1): they end lines, comments and YAML
//     block scalars, or drive the terminal;
//   - format characters (Unicode category Cf: bidirectional marks,
//     embeddings, overrides and isolates, zero-width spaces and joiners, the
//     byte-order mark, tags) and the line and paragraph separators: they are
//     invisible, reorder the text around them, or start a line for some
//     readers;
//   - every space but U+0020, the characters Unicode says to show as nothing
//     (Default_Ignorable_Code_Point: variation selectors, Hangul fillers, the
//     combining grapheme joiner) and the blank braille pattern: a name that
//     holds one looks like another name, or like one with a space;
//   - private-use, unassigned and noncharacters, which no two fonts show
//     alike and XML refuses (U+FFFE, U+FFFF).
func UnsafeRune(r rune) bool {
	switch {
	case r < 0x7f:
		return r < 0x20
	case r == utf8.RuneError, r == '\u2800':
		return true
	}
	return !unicode.IsGraphic(r) || unicode.Is(unicode.Zs, r) ||
		unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) || unicode.Is(unicode.Variation_Selector, r)
}

// unsafeInSource reports a character a Mesh file may not hold anywhere,
// comments and annotations included: control characters but tab, line feed
// and carriage return (which YAML reads as layout), the line and paragraph
// separators, and the bidirectional controls and byte-order mark, which
// make the file's text read differently from what the parser sees.
// UnsafeRune's wider set applies to values, where meshc knows what they are
// for; a comment may hold a no-break space.
func unsafeInSource(r rune) bool {
	return unicode.IsControl(r) || r == utf8.RuneError || r == '\u2028' || r == '\u2029' || r == '\ufeff' ||
		unicode.Is(unicode.Bidi_Control, r)
}

// CheckText returns an error naming the first unsafe character of s (see
// UnsafeRune) and its offset in characters, or nil.
func CheckText(s string) error {
	i := 0
	for _, r := range s {
		if UnsafeRune(r) {
			return fmt.Errorf("%s holds %s at character %d; only printable characters are allowed", diag.Quote(s), runeName(r), i+1)
		}
		i++
	}
	return nil
}

// runeName names a character the way Unicode charts do: U+000B.
func runeName(r rune) string {
	names := map[rune]string{0: "NUL", '\t': "a tab", '\n': "a newline", '\v': "a vertical tab", '\r': "a carriage return",
		0x1b: "an escape", 0x7f: "DEL", '\u2028': "a line separator", '\u2029': "a paragraph separator",
		0xa0: "a no-break space", 0xfeff: "a byte-order mark"}
	if n, ok := names[r]; ok {
		return fmt.Sprintf("%s (U+%04X)", n, r)
	}
	kind := "invisible character"
	switch {
	case unicode.IsControl(r):
		kind = "control character"
	case unicode.Is(unicode.Zs, r):
		kind = "space character"
	case unicode.Is(unicode.Co, r):
		kind = "private-use character"
	case r&0xfffe == 0xfffe || 0xfdd0 <= r && r <= 0xfdef:
		kind = "noncharacter"
	case !unicode.IsGraphic(r) && !unicode.Is(unicode.Cf, r) && !unicode.Is(unicode.Zl, r) && !unicode.Is(unicode.Zp, r):
		kind = "unassigned character"
	}
	return fmt.Sprintf("the %s U+%04X", kind, r)
}

// plainKey reports whether a mapping key can appear in a field path as it
// is: printable, short, without path punctuation.
func plainKey(s string) bool {
	return s != "" && len(s) <= diag.MaxValueLen && !strings.ContainsAny(s, ".[]\"") &&
		strings.IndexFunc(s, func(r rune) bool { return UnsafeRune(r) || unicode.IsSpace(r) }) < 0
}
