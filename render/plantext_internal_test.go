package render

import (
	"testing"
)

// TestASCIIPrintable checks the eight-bytes-at-a-time test against the
// plain definition for every byte at every position of a word and a tail.
func TestASCIIPrintable(t *testing.T) {
	for i := range 256 {
		for pos := range 11 {
			b := []byte("abcdefghijk")
			b[pos] = byte(i)
			want := i >= 0x20 && i < 0x7f
			if got := asciiPrintable(string(b)); got != want {
				t.Fatalf("byte %#x at %d: asciiPrintable = %v, want %v", i, pos, got, want)
			}
		}
	}
}
