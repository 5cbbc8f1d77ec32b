package docstest

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-cmp/cmp"
)

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
