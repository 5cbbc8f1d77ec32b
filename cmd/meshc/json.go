package main

import (
	"fmt"

	"meshc.dev/meshc/diag"
)

// printProblemsJSON is printJSON's exit code for a check: 1 when there are
// problems.
func (e *env) printProblemsJSON(ps diag.Problems) int {
	if code := e.printJSON(ps); code != exitOK {
		return code
	}
	if len(ps) > 0 {
		return exitInvalid
	}
	return exitOK
}

// printJSON writes problems to stdout as the JSON array of diag.Print, the
// one form vet, render --check and certs --check share.
func (e *env) printJSON(ps diag.Problems) int {
	if err := diag.Print(e.stdout, ps, "json"); err != nil {
		fmt.Fprintf(e.stderr, "meshc: encoding JSON: %v\n", err)
		return exitError
	}
	return exitOK
}
