package templates

import (
	"embed"
	"regexp"
	"strconv"
	"strings"
	"text/template"
)

//go:embed *.tmpl
var files embed.FS

// Set is every template, parsed once at start-up: a broken template is a
// build defect, caught by any test, never a user error.
var Set = template.Must(template.New("meshc").
	Option("missingkey=error").
	Funcs(template.FuncMap{"str": String, "sh": Shell, "inc": func(i int) int { return i + 1 }}).
	ParseFS(files, "*.tmpl"))

var plainScalar = regexp.MustCompile(`^[a-zA-Z][-a-zA-Z0-9._/]*$`)

// String renders s as a YAML scalar that always reads back as the same
// string. Names that YAML 1.1 readers take for booleans or null ("no",
// "on", "null"), and anything starting with a digit, are double-quoted.
func String(s string) string {
	switch strings.ToLower(s) {
	case "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~":
		return strconv.Quote(s)
	}
	if plainScalar.MatchString(s) {
		return s
	}
	return strconv.Quote(s)
}

var shellSafe = regexp.MustCompile(`^[-a-zA-Z0-9._/:=@+,]+$`)

// Shell quotes s for a POSIX shell, leaving plain words readable.
func Shell(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
