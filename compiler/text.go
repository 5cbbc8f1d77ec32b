package compiler

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// UnsafeRune reports a character no name, context or path meshc writes may
// hold: control characters (NUL, tab, vertical tab, escape, DEL, C1), the
// Unicode line and paragraph separators, which some readers take for line
// breaks, and the invisible bidirectional and byte-order marks that make
// text read differently from what it does. Such a character in a value that
// reaches a generated shell script or Markdown file could start a new line
// (a command), or hide one.
func UnsafeRune(r rune) bool {
	switch {
	case unicode.IsControl(r), r == utf8.RuneError:
		return true
	case r == '\u2028', r == '\u2029', r == '\u200e', r == '\u200f', r == '\ufeff':
		return true
	case '\u202a' <= r && r <= '\u202e', '\u2066' <= r && r <= '\u2069':
		return true
	}
	return false
}

// CheckText returns an error naming the first unsafe character of s (see
// UnsafeRune) and its offset in characters, or nil.
func CheckText(s string) error {
	i := 0
	for _, r := range s {
		if UnsafeRune(r) {
			return fmt.Errorf("%s holds %s at character %d; only printable characters are allowed", Quote(s), runeName(r), i+1)
		}
		i++
	}
	return nil
}

// runeName names a character the way Unicode charts do: U+000B.
func runeName(r rune) string {
	names := map[rune]string{0: "NUL", '\t': "a tab", '\n': "a newline", '\v': "a vertical tab", '\r': "a carriage return",
		0x1b: "an escape", 0x7f: "DEL", '\u2028': "a line separator", '\u2029': "a paragraph separator"}
	if n, ok := names[r]; ok {
		return fmt.Sprintf("%s (U+%04X)", n, r)
	}
	if unicode.IsControl(r) {
		return fmt.Sprintf("the control character U+%04X", r)
	}
	return fmt.Sprintf("the invisible character U+%04X", r)
}

// MaxValueLen is how many characters of a user's value a message shows;
// the rest is cut, so a megabyte-long key costs a line, not a megabyte.
const MaxValueLen = 64

// Quote quotes a value of the input for a message: Go-quoted (so a newline
// or a control character reads as \n or \x00 and the message stays on one
// line) and cut after MaxValueLen characters.
func Quote(s string) string {
	return strconv.Quote(clip(s)) + clipNote(s)
}

func clip(s string) string {
	if utf8.RuneCountInString(s) <= MaxValueLen {
		return s
	}
	n := 0
	for i := range s {
		if n == MaxValueLen {
			return s[:i]
		}
		n++
	}
	return s
}

func clipNote(s string) string {
	if n := utf8.RuneCountInString(s); n > MaxValueLen {
		return fmt.Sprintf("… (%d characters)", n)
	}
	return ""
}

// plainKey reports whether a mapping key can appear in a field path as it
// is: printable, short, without path punctuation.
func plainKey(s string) bool {
	return s != "" && len(s) <= MaxValueLen && !strings.ContainsAny(s, ".[]\"") &&
		strings.IndexFunc(s, func(r rune) bool { return UnsafeRune(r) || unicode.IsSpace(r) }) < 0
}

// MaxListed is how many names a message lists (declared networks, served
// remotes); longer lists end "and N more".
const MaxListed = 10

// listNames joins names for a message, at most MaxListed of them.
func listNames(names []string) string {
	if len(names) <= MaxListed {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:MaxListed], ", ") + fmt.Sprintf(" and %d more", len(names)-MaxListed)
}
