package docstest

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// Block is one fenced code block of a Markdown document.
type Block struct {
	Line int    // 1-based line of the opening fence
	End  int    // 1-based line of the closing fence
	Lang string // info string after the fence, as "yaml"
	Mark string // kind of the mark before the fence ("file", "run", ...); "" if unmarked
	Arg  string // the mark's argument, as the path of "file: PATH"
	Text string // the block's lines, each ending in "\n"
}

// Link is one inline Markdown link outside code.
type Link struct {
	Line   int
	Target string
}

// Doc is a parsed Markdown document.
type Doc struct {
	Blocks   []Block
	Links    []Link
	Headings []string // heading texts, in order
}

var (
	fence     = regexp.MustCompile("^( {0,3})(```+)\\s*([^`\\s]*)\\s*$")
	mark      = regexp.MustCompile(`^<!--\s*([a-z]+)(?::\s*(.*?))?\s*-->$`)
	heading   = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
	link      = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	refLink   = regexp.MustCompile(`^\s*\[[^\]]+\]:\s+(\S+)`)
	codeSpans = regexp.MustCompile("`+[^`]*`+")
)

// Parse splits a Markdown document into its fenced blocks, links and headings.
func Parse(text string) Doc {
	var d Doc
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		m := fence.FindStringSubmatch(lines[i])
		if m == nil {
			scanLine(&d, i+1, lines[i])
			continue
		}
		b := Block{Line: i + 1, Lang: m[3]}
		if i > 0 {
			if mm := mark.FindStringSubmatch(strings.TrimSpace(lines[i-1])); mm != nil {
				b.Mark, b.Arg = mm[1], mm[2]
			}
		}
		indent, ticks := m[1], m[2]
		var body strings.Builder
		for i++; i < len(lines); i++ {
			l := lines[i]
			if t := strings.TrimSpace(l); strings.HasPrefix(t, ticks) && strings.Trim(t, "`") == "" {
				break
			}
			body.WriteString(strings.TrimPrefix(l, indent))
			body.WriteByte('\n')
		}
		b.Text = body.String()
		b.End = i + 1
		d.Blocks = append(d.Blocks, b)
	}
	return d
}

func scanLine(d *Doc, n int, l string) {
	if h := heading.FindStringSubmatch(l); h != nil {
		d.Headings = append(d.Headings, h[1])
	}
	if r := refLink.FindStringSubmatch(l); r != nil {
		d.Links = append(d.Links, Link{n, r[1]})
	}
	for _, m := range link.FindAllStringSubmatch(codeSpans.ReplaceAllString(l, ""), -1) {
		d.Links = append(d.Links, Link{n, m[1]})
	}
}

// Anchors returns the fragment identifiers GitHub gives the headings.
func (d Doc) Anchors() map[string]bool {
	seen := map[string]int{}
	out := map[string]bool{}
	for _, h := range d.Headings {
		s := slug(h)
		if n := seen[s]; n > 0 {
			out[s+"-"+strconv.Itoa(n)] = true
		} else {
			out[s] = true
		}
		seen[s]++
	}
	return out
}

// slug is GitHub's heading anchor: lower case, punctuation dropped, spaces
// turned into hyphens.
func slug(h string) string {
	h = link.ReplaceAllString(h, "]") // [text](url) keeps its text
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}
