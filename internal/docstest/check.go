package docstest

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"meshc.dev/meshc/internal/golden"
)

// Meshc runs meshc with args (without the program name) and returns its exit
// code, as cmd/meshc's Main does.
type Meshc func(args []string, stdout, stderr io.Writer) int

// Config says what to check and how to run meshc.
type Config struct {
	Root    string   // repository root
	Docs    []string // documents to check, relative to Root; globs allowed
	Sandbox []string // directories of Root copied into each document's sandbox
	Meshc   Meshc
	// Index, if set, is the document every other one must be reachable from
	// by following links.
	Index string
}

// Check checks every document of c.Docs, one subtest each.
func Check(t *testing.T, c Config) {
	root, err := filepath.Abs(c.Root) // the working directory changes to sandboxes
	if err != nil {
		t.Fatal(err)
	}
	c.Root = root
	var docs []string
	for _, g := range c.Docs {
		m, err := filepath.Glob(filepath.Join(c.Root, g))
		if err != nil || len(m) == 0 {
			t.Errorf("%s: no such document", g)
		}
		for _, f := range m {
			rel, _ := filepath.Rel(c.Root, f)
			docs = append(docs, filepath.ToSlash(rel))
		}
	}
	if c.Index != "" {
		for _, name := range unreachable(c.Root, c.Index, docs) {
			t.Errorf("%s: no chain of links leads here from %s", name, c.Index)
		}
	}
	for _, name := range docs {
		t.Run(name, func(t *testing.T) {
			for _, e := range checkDoc(t, c, name) {
				t.Error(e)
			}
		})
	}
}

// checker holds one document's state while its blocks run in order.
type checker struct {
	t       *testing.T
	c       Config
	name    string // the document, relative to the root
	sandbox string
	errs    []string
	update  bool
	fixed   map[int]string // with update: new text of blocks, by index
}

// checkDoc checks one document and returns what is wrong with it, each
// message starting with the document and line at fault.
func checkDoc(t *testing.T, c Config, name string) []string {
	data, err := os.ReadFile(filepath.Join(c.Root, name))
	if err != nil {
		t.Fatal(err)
	}
	d := Parse(string(data))
	k := &checker{t: t, c: c, name: name, update: update, fixed: map[int]string{}}
	k.links(d)
	if strings.HasPrefix(string(data), "<!-- Generated") {
		return k.errs
	}
	for i, b := range d.Blocks {
		switch b.Mark {
		case "":
			k.errorf(b.Line, "fenced block has no mark; precede it with <!-- illustrative --> or a checked mark (see internal/docstest)")
		case "illustrative":
		case "file":
			k.fix(i, b, k.file(b))
		case "write":
			k.write(b)
		case "run":
			k.fix(i, b, k.run(b))
		case "commands":
			k.commands(b)
		case "tree":
			k.tree(b)
		case "test":
			k.test(b)
		default:
			k.errorf(b.Line, "unknown mark %q (want file, write, run, commands, tree, test or illustrative)", b.Mark)
		}
	}
	if len(k.fixed) > 0 {
		k.rewrite(string(data), d.Blocks)
	}
	return k.errs
}

// fix records, with update, the text a block should have; "" means it is
// right or cannot be fixed.
func (k *checker) fix(i int, b Block, text string) {
	if k.update && text != "" && text != b.Text {
		k.fixed[i] = text
	}
}

// rewrite writes the document back with the fixed blocks' new text.
func (k *checker) rewrite(doc string, blocks []Block) {
	lines := strings.SplitAfter(doc, "\n")
	var out strings.Builder
	next := 0 // index of the first line not yet written
	for i, b := range blocks {
		text, ok := k.fixed[i]
		if !ok {
			continue
		}
		out.WriteString(strings.Join(lines[next:b.Line], "")) // through the opening fence
		out.WriteString(text)
		next = b.End - 1 // the closing fence
	}
	out.WriteString(strings.Join(lines[next:], ""))
	if err := os.WriteFile(k.fromRoot(k.name), []byte(out.String()), 0o644); err != nil {
		k.t.Fatal(err)
	}
}

func (k *checker) errorf(line int, format string, args ...any) {
	k.errs = append(k.errs, fmt.Sprintf("%s:%d: %s", k.name, line, fmt.Sprintf(format, args...)))
}

// fromRoot resolves a slash path relative to the repository root.
func (k *checker) fromRoot(p string) string {
	return filepath.Join(k.c.Root, filepath.FromSlash(p))
}

// box returns the document's sandbox, creating it on first use: a temporary
// directory, the working directory from then on, holding copies of
// c.Sandbox.
func (k *checker) box() string {
	if k.sandbox != "" {
		return k.sandbox
	}
	k.sandbox = k.t.TempDir()
	for _, dir := range k.c.Sandbox {
		if err := os.CopyFS(filepath.Join(k.sandbox, dir), os.DirFS(k.fromRoot(dir))); err != nil {
			k.t.Fatal(err)
		}
	}
	k.t.Chdir(k.sandbox)
	return k.sandbox
}

var lineRange = regexp.MustCompile(`^(\S+)(?: lines (\d+)-(\d+))?$`)

// file checks a file excerpt and returns what it should be.
func (k *checker) file(b Block) string {
	m := lineRange.FindStringSubmatch(b.Arg)
	if m == nil {
		k.errorf(b.Line, "file mark %q: want PATH or PATH lines A-B", b.Arg)
		return ""
	}
	data, err := os.ReadFile(k.fromRoot(m[1]))
	if err != nil {
		k.errorf(b.Line, "%v", err)
		return ""
	}
	want := string(data)
	if m[2] != "" {
		from, _ := strconv.Atoi(m[2])
		to, _ := strconv.Atoi(m[3])
		lines := strings.SplitAfter(want, "\n")
		if from < 1 || to > len(lines) || from > to {
			k.errorf(b.Line, "lines %d-%d of %s, which has %d lines", from, to, m[1], len(lines))
			return ""
		}
		want = strings.Join(lines[from-1:to], "")
	}
	if want != b.Text && !k.update {
		k.errorf(b.Line, "the copy of %s is stale (-file +doc); %s:\n%s", b.Arg, hint, cmp.Diff(want, b.Text))
	}
	return want
}

// update is golden.Update (MESHC_UPDATE=1): stale file excerpts and run
// outputs without "..." are rewritten instead of reported.
var update = golden.Update

const hint = "if the change is intended, run MESHC_UPDATE=1 go test ./... and review the diff"

func (k *checker) write(b Block) {
	p := filepath.Join(k.box(), filepath.FromSlash(b.Arg))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		k.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(b.Text), 0o644); err != nil {
		k.t.Fatal(err)
	}
}

// run checks a console block: each "$ meshc ..." line is run and followed by
// the output it must print (stdout and stderr, as a terminal shows them).
// It returns the block's text with each differing output replaced by what
// the command printed, where the output shown elides no lines.
func (k *checker) run(b Block) string {
	var fixed strings.Builder
	lines := strings.Split(strings.TrimSuffix(b.Text, "\n"), "\n")
	for i := 0; i < len(lines); {
		cmd, ok := strings.CutPrefix(lines[i], "$ ")
		if !ok {
			k.errorf(b.Line+1+i, "run block: want a line \"$ meshc ...\", got %q", lines[i])
			return ""
		}
		at := b.Line + 1 + i
		var want []string
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "$ "); i++ {
			want = append(want, lines[i])
		}
		fixed.WriteString("$ " + cmd + "\n")
		got, ok := k.meshc(at, cmd)
		gotLines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
		if got == "" {
			gotLines = nil
		}
		switch {
		case !ok || matchLines(want, gotLines):
			fixed.WriteString(join(want))
		case !slices.Contains(want, elision) && k.update:
			fixed.WriteString(got)
			if !strings.HasSuffix(got, "\n") {
				fixed.WriteString("\n")
			}
		case !slices.Contains(want, elision):
			k.errorf(at, "%s: output differs; %s:\n%s", cmd, hint, showDiff(join(want), got))
			fixed.WriteString(join(want))
		default:
			k.errorf(at, "%s: output differs (an excerpt with \"...\" is updated by hand):\n%s", cmd, showDiff(join(want), got))
			fixed.WriteString(join(want))
		}
	}
	return fixed.String()
}

var exitComment = regexp.MustCompile(`^exit (\d+)\b`)

// meshc runs one command line "meshc ARGS [> FILE] [# comment]" in the
// sandbox and returns what it printed; the comment "# exit N" sets the exit
// code it must return (default 0).
func (k *checker) meshc(line int, cmd string) (string, bool) {
	args, comment := fields(cmd)
	if len(args) == 0 || args[0] != "meshc" {
		k.errorf(line, "%q: only meshc runs here", cmd)
		return "", false
	}
	want := 0
	if m := exitComment.FindStringSubmatch(comment); m != nil {
		want, _ = strconv.Atoi(m[1])
	}
	k.box()
	var out, redirected bytes.Buffer
	stdout, file := io.Writer(&out), ""
	if n := len(args); n > 2 && args[n-2] == ">" {
		stdout, file, args = &redirected, args[n-1], args[:n-2]
	}
	if code := k.c.Meshc(args[1:], stdout, &out); code != want {
		k.errorf(line, "%s: exit %d, want %d\n%s", cmd, code, want, out.String())
		return out.String(), false
	}
	if file != "" {
		if err := os.WriteFile(filepath.Join(k.sandbox, filepath.FromSlash(file)), redirected.Bytes(), 0o644); err != nil {
			k.t.Fatal(err)
		}
	}
	return out.String(), true
}

// fields splits a command line into words and its trailing "# comment".
// Quotes are not interpreted: documented commands do not need them.
func fields(line string) (args []string, comment string) {
	if i := strings.Index(line, " #"); i >= 0 {
		line, comment = line[:i], strings.TrimSpace(line[i+2:])
	} else if strings.HasPrefix(line, "#") {
		return nil, strings.TrimSpace(line[1:])
	}
	return strings.Fields(line), comment
}

var envAssign = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=`)

// commands checks a block of command lines a reader types.
func (k *checker) commands(b Block) {
	for i, l := range strings.Split(strings.TrimSuffix(b.Text, "\n"), "\n") {
		at := b.Line + 1 + i
		args, _ := fields(l)
		for len(args) > 0 && envAssign.MatchString(args[0]) {
			args = args[1:]
		}
		if len(args) == 0 {
			continue
		}
		switch args[0] {
		case "meshc":
			k.meshc(at, strings.TrimSpace(l))
		case "make":
			k.makeTargets(at, args[1:])
		case "go":
			k.goPackages(at, args[1:])
		default:
			for _, a := range args[1:] {
				if looksLikePath(a) && !k.exists(a) {
					k.errorf(at, "%s: no such file or directory %s", args[0], a)
				}
			}
		}
	}
}

func looksLikePath(a string) bool {
	return strings.Contains(a, "/") && !strings.Contains(a, "://") && !strings.ContainsAny(a, "=$@") &&
		!strings.HasPrefix(a, "-") && !filepath.IsAbs(a)
}

// exists reports whether p exists in the sandbox (where earlier blocks may
// have created it) or at the root.
func (k *checker) exists(p string) bool {
	if _, err := os.Stat(filepath.Join(k.box(), filepath.FromSlash(p))); err == nil {
		return true
	}
	_, err := os.Stat(k.fromRoot(p))
	return err == nil
}

func (k *checker) makeTargets(line int, args []string) {
	mk, err := os.ReadFile(k.fromRoot("Makefile"))
	if err != nil {
		k.t.Fatal(err)
	}
	for _, a := range args {
		if strings.HasPrefix(a, "-") || strings.Contains(a, "=") {
			continue
		}
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(a) + `:`).Match(mk) {
			k.errorf(line, "make %s: the Makefile has no such target", a)
		}
	}
}

// goPackages checks that every package of this module a go command names
// exists; packages of other modules are not checked.
func (k *checker) goPackages(line int, args []string) {
	mod := k.module()
	for _, a := range args {
		a, _, _ = strings.Cut(a, "@")
		var rel string
		switch {
		case strings.HasPrefix(a, "./"):
			rel = a
		case a == mod || strings.HasPrefix(a, mod+"/"):
			rel = "." + strings.TrimPrefix(a, mod)
		default:
			continue
		}
		if tree, ok := strings.CutSuffix(rel, "/..."); ok {
			if !isDir(k.fromRoot(tree)) {
				k.errorf(line, "go: %s names no directory of this repository", a)
			}
			continue
		}
		if m, _ := filepath.Glob(filepath.Join(k.fromRoot(rel), "*.go")); len(m) == 0 {
			k.errorf(line, "go: %s is not a package of this repository", a)
		}
	}
}

func (k *checker) module() string {
	gomod, err := os.ReadFile(k.fromRoot("go.mod"))
	if err != nil {
		k.t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^module\s+(\S+)`).FindSubmatch(gomod)
	if m == nil {
		k.t.Fatal("go.mod has no module line")
	}
	return string(m[1])
}

// tree checks a directory listing: each line is a name indented two spaces
// per level below the first (the listed directory, relative to the
// sandbox), a trailing "/" for directories, then an optional comment; "..."
// stands for entries not shown. Every listed entry must exist.
func (k *checker) tree(b Block) {
	var parents []string // parents[d] is the path of the last directory at depth d
	for i, l := range strings.Split(strings.TrimSuffix(b.Text, "\n"), "\n") {
		at := b.Line + 1 + i
		f := strings.Fields(l)
		if len(f) == 0 || f[0] == elision {
			continue
		}
		indent := len(l) - len(strings.TrimLeft(l, " "))
		depth := indent / 2
		if indent%2 != 0 || depth > len(parents) || (i == 0) != (depth == 0) {
			k.errorf(at, "tree: indent by two spaces per level, under one top directory")
			return
		}
		name := f[0]
		p := name
		if depth > 0 {
			p = parents[depth-1] + name
		}
		fi, err := os.Stat(filepath.Join(k.box(), filepath.FromSlash(p)))
		switch {
		case err != nil:
			k.errorf(at, "tree: %s does not exist", p)
		case fi.IsDir() != strings.HasSuffix(name, "/"):
			k.errorf(at, "tree: %s: a directory is listed with a trailing /, a file without", p)
		}
		parents = append(parents[:depth], p)
	}
}

// test checks that the Go test a block defers to exists.
func (k *checker) test(b Block) {
	decl := []byte("func " + b.Arg + "(t *testing.T)")
	found := false
	filepath.WalkDir(k.c.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || found {
			return filepath.SkipAll
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && p != k.c.Root {
			return filepath.SkipDir
		}
		if strings.HasSuffix(p, "_test.go") {
			data, err := os.ReadFile(p)
			found = err == nil && bytes.Contains(data, decl)
		}
		return nil
	})
	if !found {
		k.errorf(b.Line, "the block defers to %s, which no test file defines", b.Arg)
	}
}

// links checks that every relative link names an existing file and, with a
// fragment into a Markdown file, one of its headings.
func (k *checker) links(d Doc) {
	for _, l := range d.Links {
		if strings.Contains(l.Target, "://") || strings.HasPrefix(l.Target, "mailto:") {
			continue
		}
		p, frag, _ := strings.Cut(l.Target, "#")
		target := k.name
		if p != "" {
			target = filepath.ToSlash(filepath.Join(filepath.Dir(k.name), p))
		}
		data, err := os.ReadFile(k.fromRoot(target))
		if err != nil && !isDir(k.fromRoot(target)) {
			k.errorf(l.Line, "link %s: %s does not exist", l.Target, target)
			continue
		}
		if frag == "" {
			continue
		}
		if !strings.HasSuffix(target, ".md") || !Parse(string(data)).Anchors()[frag] {
			k.errorf(l.Line, "link %s: %s has no heading #%s", l.Target, target, frag)
		}
	}
}

// unreachable returns the documents no chain of links from index reaches.
func unreachable(root, index string, docs []string) []string {
	seen := map[string]bool{index: true}
	queue := []string{index}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
		if err != nil {
			continue
		}
		for _, l := range Parse(string(data)).Links {
			p, _, _ := strings.Cut(l.Target, "#")
			if p == "" || strings.Contains(p, "://") {
				continue
			}
			target := filepath.ToSlash(filepath.Join(filepath.Dir(name), p))
			if isDir(filepath.Join(root, filepath.FromSlash(target))) {
				target += "/README.md" // GitHub shows a directory's README
			}
			if !seen[target] {
				seen[target] = true
				queue = append(queue, target)
			}
		}
	}
	var out []string
	for _, d := range docs {
		if !seen[d] {
			out = append(out, d)
		}
	}
	return out
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
