package docstest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

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
