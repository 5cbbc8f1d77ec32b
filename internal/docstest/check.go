package docstest

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

// update is golden.Update (MESHC_UPDATE=1): stale file excerpts and run
// outputs without "..." are rewritten instead of reported.
var update = golden.Update

const hint = "if the change is intended, run MESHC_UPDATE=1 go test ./... and review the diff"
