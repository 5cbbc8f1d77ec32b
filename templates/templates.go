package templates

import (
	"embed"
	"net/netip"
	"strconv"
	"strings"
	"text/template"

	"meshc.dev/meshc/diagram"
)

//go:embed *.tmpl
var files embed.FS

// Set is every template, parsed once at start-up: a broken template is a
// build defect, caught by any test, never a user error.
var Set = template.Must(template.New("meshc").
	Option("missingkey=error").
	Funcs(template.FuncMap{"str": String, "sh": Shell, "code": MarkdownCode, "inc": func(i int) int { return i + 1 }, "lower": strings.ToLower, "indent": indent,
		"quote":   strconv.Quote,
		"mermaid": diagram.Mermaid, "isIP": isIP}).
	ParseFS(files, "*.tmpl"))

// String renders s as a YAML scalar that always reads back as the same
// string. Names that YAML 1.1 readers take for booleans or null ("no",
// "on", "null"), and anything starting with a digit, are double-quoted.
func String(s string) string {
	switch strings.ToLower(s) {
	case "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~":
		return strconv.Quote(s)
	}
	if plainScalar(s) {
		return s
	}
	return strconv.Quote(s)
}

// Shell quotes s for a POSIX shell, leaving plain words readable: a
// non-empty s made only of letters, digits and -._/:=@+, stays as it is.
func Shell(s string) string {
	if s != "" && strings.IndexFunc(s, notShellSafe) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// MarkdownCode renders s as a Markdown code span that shows exactly s: the
// fence is one backtick longer than the longest run of backticks in s, so
// no value can close the span early and turn into links or HTML. s must be
// one line (plans refuse control characters before rendering).
func MarkdownCode(s string) string {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || (strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ") && strings.TrimSpace(s) != "") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// plainScalar reports whether s is a letter followed by letters, digits and
// -._/ only: a YAML plain scalar that no reader takes for a number.
func plainScalar(s string) bool {
	if s == "" || !isAlnum(rune(s[0])) || '0' <= s[0] && s[0] <= '9' {
		return false
	}
	return strings.IndexFunc(s[1:], func(r rune) bool { return !isAlnum(r) && !strings.ContainsRune("-._/", r) }) < 0
}

// notShellSafe reports a rune a shell word cannot hold unquoted. A plan holds
// one quoted word per cluster pair (89,700 in a 300-primary mesh), so this is
// a loop, not a regular expression.
func notShellSafe(r rune) bool {
	return !isAlnum(r) && !strings.ContainsRune("-._/:=@+,", r)
}

// isAlnum reports an ASCII letter or digit.
func isAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}

// isIP reports whether s is an IP address rather than a hostname.
func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// indent prefixes every line of s with n spaces.
func indent(n int, s string) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
}
