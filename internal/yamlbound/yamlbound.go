// Package yamlbound bounds what parsing YAML will cost before the parse.
//
// In: the bytes of a YAML stream. Out: an upper bound on the number of
// nodes go.yaml.in/yaml/v3 builds from them (its *yaml.Node trees, every
// document), computed in one pass with no allocation.
//
// A yaml.Node costs about 200 bytes, and a YAML node can take as little as
// one byte of input ("{a,b,c}" is seven nodes), so a parser's memory is
// not bounded by the input's size alone: a few megabytes of commas are a
// gigabyte of tree. A caller refuses input whose bound is past its limit,
// so the tree it then builds fits.
//
// The bound counts what can start a node, without a scanner's context:
// every token starts at a distinct byte, and each token yields at most a
// fixed number of nodes (a scalar one; a value indicator ':' a mapping, an
// empty key and an empty value, the last two only where its line leaves
// room for them). Overcounting is safe (text in quotes,
// comments and block scalars counts as if it were tokens); undercounting is
// not, and FuzzNodes checks the bound against the parser itself.
package yamlbound

import "strings"

// Nodes returns an upper bound on the nodes yaml.v3 builds from data. For
// Kubernetes-style YAML it is two to three times the true count; for the
// densest input ("{a,b,c,…}") it is exact.
func Nodes(data []byte) int {
	if len(data) >= 2 && (data[0] == 0xFE && data[1] == 0xFF || data[0] == 0xFF && data[1] == 0xFE) {
		// UTF-16, which the parser transcodes: at most three nodes a
		// character (below), and every character takes two bytes.
		return 2*len(data) + slack
	}
	n := slack
	inRun := false
	// last is the last byte on this line that is not blank, 0 at its start.
	var last byte
	for i, c := range data {
		switch {
		case lineBreak(c):
			inRun, last = false, 0
			continue
		case c == ' ' || c == '\t':
			inRun = false
			continue
		case c == ',' || c == '[' || c == ']' || c == '{' || c == '}':
			// A flow collection starts, or an entry or the collection ends
			// with its key's value left empty ({a, b}).
			n++
			inRun = false
		case c == ':':
			// A value indicator: perhaps a new mapping, and an empty key
			// when nothing that can be one precedes it on its line, and an
			// empty value when nothing follows it there. The scanner takes
			// ':' as an indicator only in some places; every one counts.
			n++
			if strings.IndexByte(keyless, last) >= 0 {
				n++
			}
			if emptyAfter(data[i+1:]) {
				n++
			}
			inRun = false
		case c == '?':
			// A key indicator: perhaps a new mapping, an empty key and an
			// empty value.
			n += 3
			inRun = false
		case c == '-' && (i+1 == len(data) || blankz(data[i+1])):
			// A block entry ("- ") or the end of "---", which start a
			// sequence or a document, and an empty entry or document when
			// nothing follows on the line. A block entry starts no scalar.
			n++
			if emptyAfter(data[i+1:]) {
				n++
			}
		default:
			if !inRun {
				// A scalar, alias, anchor, tag, "---" or "..." can start
				// here: one node (an anchor or tag on nothing is an empty
				// scalar; "..." may start a document).
				n++
				inRun = true
			}
		}
		last = c
	}
	return n
}

// keyless are the bytes after which a ':' on the same line may have no key
// (0 is the start of the line): indicators, and the last byte of "...",
// which may end a document.
const keyless = "\x00-?:,[{."

// emptyAfter reports whether a value indicator followed by rest may have an
// empty value: its line ends after blanks, or a comment, an indicator or a
// collection's end comes next.
func emptyAfter(rest []byte) bool {
	for _, c := range rest {
		switch {
		case c == ' ' || c == '\t':
			continue
		case lineBreak(c) || c == 0 || c == 0xC2 || c == 0xE2:
			return true
		}
		return strings.IndexByte("#,]}:?-", c) >= 0
	}
	return true
}

// slack covers the first document (its node and, if it holds nothing, an
// empty scalar) and a token glued to a quoted scalar ("a"b), after which
// the parser stops with an error.
const slack = 4

// lineBreak reports whether c ends a line. The parser's multi-byte breaks
// (NEL, LS, PS) end in 0x85, 0xA8 and 0xA9, so those bytes end one too;
// elsewhere in UTF-8 they only make the bound larger.
func lineBreak(c byte) bool {
	switch c {
	case '\r', '\n', 0x85, 0xA8, 0xA9:
		return true
	}
	return false
}

// blankz is the scanner's "blank, break or end" test on the byte after a
// '-', made wider: the first byte of a multi-byte break, or NUL, counts.
func blankz(c byte) bool {
	return c == ' ' || c == '\t' || lineBreak(c) || c == 0 || c == 0xC2 || c == 0xE2
}
