package main

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
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
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: os.Getenv("MESHC_UPDATE") != "",
		Cmds:          map[string]func(*testscript.TestScript, bool, []string){"mode": cmdMode},
		Setup: func(e *testscript.Env) error {
			// Scripts read the repository's examples through $EXAMPLES.
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			e.Setenv("EXAMPLES", wd+"/../../examples")
			e.Setenv("GOLDEN", wd+"/../../golden")
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
