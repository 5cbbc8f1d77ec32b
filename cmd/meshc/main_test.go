package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"meshc.dev/meshc/internal/golden"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"meshc": func() { os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the CLI scripts in testdata/script; each one starts with
// a comment saying what it checks. MESHC_UPDATE=1 rewrites their expected
// output from what meshc prints.
func TestScripts(t *testing.T) {
	invalid := t.TempDir()
	if err := golden.ExtractInputs("../../compiler/testdata/invalid", invalid); err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: golden.Update,
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"mode":    cmdMode,
			"exits":   cmdExits,
			"genfile": cmdGenfile,
		},
		Setup: func(e *testscript.Env) error {
			// Scripts read the repository's examples through $EXAMPLES and
			// the inputs of the compiler's invalid cases through $INVALID
			// (copy them into the work directory first, so messages show
			// short names).
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			e.Setenv("EXAMPLES", wd+"/../../examples")
			e.Setenv("GOLDEN", wd+"/../../golden")
			e.Setenv("INVALID", invalid)
			e.Setenv("SCHEMA", wd+"/../../schema")
			return nil
		},
	})
}

// cmdMode is "mode PERM FILE...": each file's permission bits must be PERM
// (octal), as private keys must be 0600 in 0700 directories.
func cmdMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: mode PERM FILE...")
	}
	want, err := strconv.ParseUint(args[0], 8, 32)
	ts.Check(err)
	for _, f := range args[1:] {
		fi, err := os.Stat(ts.MkAbs(f))
		ts.Check(err)
		got := uint64(fi.Mode().Perm())
		if (got == want) == neg {
			ts.Fatalf("%s has mode %s, want %s%#o", f, fmt.Sprintf("%#o", got), map[bool]string{true: "not ", false: ""}[neg], want)
		}
	}
}

// cmdExits is `exits CODE PROGRAM ARGS...`: it runs the program like exec
// (stdout and stderr can be compared afterwards) and demands that exact exit
// code, which exec and ! exec cannot tell apart beyond zero and non-zero.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: code %q is not a number", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

var repeatPart = regexp.MustCompile(`^(\d+)\*(.*)$`)

// cmdGenfile is `genfile FILE PART...`: it writes the concatenated parts to
// FILE, for input too large or too binary to keep in a txtar archive. A part
// is text with Go escapes (\n, \xff), optionally prefixed N* to repeat it.
func cmdGenfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: genfile FILE PART...")
	}
	var b strings.Builder
	for _, part := range args[1:] {
		n := 1
		if m := repeatPart.FindStringSubmatch(part); m != nil {
			n, _ = strconv.Atoi(m[1])
			part = m[2]
		}
		text, err := strconv.Unquote(`"` + strings.ReplaceAll(part, `"`, `\"`) + `"`)
		if err != nil {
			ts.Fatalf("genfile: part %q: %v", part, err)
		}
		b.WriteString(strings.Repeat(text, n))
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(b.String()), 0o644))
}
