package main

import (
	"fmt"
	"path"
	"strings"

	"cuelang.org/go/cue/token"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/output"
)

// checkOutput is `render --check`: it compares the rendered tree with dir
// and writes nothing. Each stale, missing or extra file is a problem,
// printed as text (then a summary with the command that fixes it) or as
// JSON; any problem exits 1.
func (e *env) checkOutput(input string, out *output.Output, dir, format string) int {
	diffs, err := output.Diff(out, dir)
	if err != nil {
		return e.fail("render --check", err)
	}
	left, err := output.Leftovers(dir)
	if err != nil {
		return e.fail("render --check", err)
	}
	var ps diag.Problems
	for _, l := range left {
		ps = append(ps, diag.Problem{Pos: token.Position{Filename: displayName(l)},
			Message: "left by an interrupted meshc render; the next render removes it"})
	}
	shown := displayName(dir)
	count := map[output.DiffKind]int{}
	for _, d := range diffs {
		dirSlash := strings.HasSuffix(d.Path, "/")
		d.Path = path.Join(shown, d.Path)
		if dirSlash {
			d.Path += "/"
		}
		ps = append(ps, d.Problem())
		count[d.Kind]++
	}
	if format == "json" {
		return e.printProblemsJSON(ps)
	}
	diag.Print(e.stderr, ps, "text")
	switch {
	case len(ps) == 0:
		return exitOK
	case len(diffs) == 0:
		fmt.Fprintf(e.stderr, "meshc render --check: %s is up to date with %s, but an interrupted run left the directories above; run: meshc render %s -o %s\n",
			shown, input, input, shown)
		return exitInvalid
	}
	fmt.Fprintf(e.stderr, "meshc render --check: %s is out of date with %s (%d stale, %d missing, %d extra); run: meshc render %s -o %s\n",
		shown, input, count[output.Stale], count[output.Missing], count[output.Extra], input, shown)
	return exitInvalid
}
