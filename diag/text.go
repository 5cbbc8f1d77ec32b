package diag

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

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

// MaxListed is how many names a message lists (declared networks, served
// remotes); longer lists end "and N more".
const MaxListed = 10

// ListNames joins names for a message, at most MaxListed of them.
func ListNames(names []string) string {
	if len(names) <= MaxListed {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:MaxListed], ", ") + fmt.Sprintf(" and %d more", len(names)-MaxListed)
}
