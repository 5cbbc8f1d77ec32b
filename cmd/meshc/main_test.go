package main

import (
	"os"
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
