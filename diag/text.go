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
//
// A value that looks like a credential is not shown at all: messages end up
// in terminals, CI logs and issue reports, and a token pasted into the
// wrong field must not travel with them.
func Quote(s string) string {
	if LooksLikeCredential(s) {
		return fmt.Sprintf("a value that looks like a credential (%d characters, not shown)", utf8.RuneCountInString(s))
	}
	return strconv.Quote(clip(s)) + clipNote(s)
}

// LooksLikeCredential reports a value that holds what a credential holds: a
// user and password in a URL, a query parameter named like a secret, a
// Vault token (hvs., hvb., hvr., or the older s. form), a JSON Web Token, a
// private key. meshc's input has no field for any of them.
func LooksLikeCredential(s string) bool {
	l := strings.ToLower(s)
	if strings.Contains(l, "private key") {
		return true
	}
	if i := strings.Index(l, "://"); i >= 0 {
		host, _, _ := strings.Cut(l[i+3:], "/")
		if strings.Contains(host, "@") {
			return true
		}
	}
	for _, p := range []string{"token=", "password=", "passwd=", "secret=", "key=", "signature=", "sig="} {
		if strings.Contains(l, "?"+p) || strings.Contains(l, "&"+p) {
			return true
		}
	}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == ' ' || r == '"' || r == '\'' || r == ':' || r == '=' }) {
		if vaultToken(f) || strings.HasPrefix(f, "eyJ") && strings.Count(f, ".") == 2 && len(f) > 20 {
			return true
		}
	}
	return false
}

// vaultToken: Vault's service, batch and recovery tokens (hvs., hvb., hvr.)
// and the older s.<24 characters> form.
func vaultToken(f string) bool {
	for _, p := range []string{"hvs.", "hvb.", "hvr."} {
		if strings.HasPrefix(f, p) && len(f) > len(p)+8 {
			return true
		}
	}
	rest, ok := strings.CutPrefix(f, "s.")
	return ok && len(rest) >= 24 && strings.IndexFunc(rest, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) < 0
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
