package mesh

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"cuelang.org/go/cue/token"

	"meshc.dev/meshc/diag"
)

// checkBytes rejects input that is not worth parsing, with a position: too
// large, empty, not UTF-8, or holding a raw control character (which the
// YAML parser rejects without saying where) or another character no part
// of a Mesh file may hold (unsafeInSource). Values get the wider check of
// UnsafeRune in checkYAML.
func checkBytes(filename string, data []byte) diag.Problems {
	at := func(off int, msg string) diag.Problems {
		return diag.Problems{{Pos: bytePos(filename, data, off), Message: msg}}
	}
	switch {
	case len(data) > MaxInputSize:
		return at(0, fmt.Sprintf("input exceeds %d bytes (%d MiB), the most meshc reads; a Mesh document is far smaller", MaxInputSize, MaxInputSize>>20))
	case len(bytes.TrimSpace(data)) == 0:
		return at(0, "file is empty; expected a Mesh document")
	}
	for off := 0; off < len(data); {
		b := data[off]
		if b < utf8.RuneSelf {
			if (b < 0x20 && b != '\t' && b != '\n' && b != '\r') || b == 0x7f {
				return at(off, fmt.Sprintf("input holds %s; only printable characters are allowed", runeName(rune(b))))
			}
			off++
			continue
		}
		r, n := utf8.DecodeRune(data[off:])
		switch {
		case r == utf8.RuneError && n <= 1:
			return at(off, "input is not valid UTF-8")
		case r == '\ufeff' && off == 0: // a byte-order mark may start the file
		case unsafeInSource(r):
			return at(off, fmt.Sprintf("input holds %s; only printable characters are allowed", runeName(r)))
		}
		off += n
	}
	return nil
}

// bytePos is the line and column of byte off in data, the column counted in
// characters as the YAML parser counts it.
func bytePos(filename string, data []byte, off int) token.Position {
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	start := bytes.LastIndexByte(data[:off], '\n') + 1
	return token.Position{Filename: filename, Line: line, Column: 1 + utf8.RuneCount(data[start:off])}
}
