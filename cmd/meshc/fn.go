package main

import (
	"errors"
	"fmt"

	"meshc.dev/meshc/krm"
)

// newFnCmd runs meshc as a KRM function (kustomize exec generator or
// transformer, `kustomize fn run`): a ResourceList on stdin, a ResourceList
// on stdout. Problems go both into the ResourceList's results and, one per
// line, to stderr, because kustomize build shows an exec function's stderr
// but not its results.
func newFnCmd(e *env) *command {
	c := &command{name: "fn", summary: "run as a KRM function (kustomize plugin): ResourceList in on stdin, out on stdout",
		usage: "fn < RESOURCELIST"}
	c.flags = newFlagSet(e, c.name, c.usage)
	c.run = func(args []string) int {
		if len(args) != 0 {
			fmt.Fprintf(e.stderr, "meshc fn: expected no arguments (the ResourceList comes on stdin), got %d\n", len(args))
			c.flags.Usage()
			return exitError
		}
		err := krm.Run(e.stdin, e.stdout)
		var rs krm.Results
		switch {
		case err == nil:
			return exitOK
		case errors.As(err, &rs):
			for _, r := range rs {
				fmt.Fprintln(e.stderr, r.String())
			}
			return exitInvalid
		}
		fmt.Fprintf(e.stderr, "meshc fn: %v\n", err)
		return exitError
	}
	return c
}
