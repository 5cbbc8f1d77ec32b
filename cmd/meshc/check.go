package main

import (
	"fmt"
	"path"
	"strings"

	"meshc.dev/meshc/output"
)

// checkOutput is `render --check`: it compares the rendered tree with dir,
// prints one line per stale, missing or extra file and a summary with the
// command that fixes it, and writes nothing.
func (e *env) checkOutput(input string, out *output.Output, dir string) int {
	diffs, err := output.Diff(out, dir)
	if err != nil {
		return e.fail("render --check", err)
	}
	left, err := output.Leftovers(dir)
	if err != nil {
		return e.fail("render --check", err)
	}
	for _, l := range left {
		fmt.Fprintf(e.stderr, "%s: left by an interrupted meshc render; the next render removes it\n", displayName(l))
	}
	if len(diffs) == 0 && len(left) == 0 {
		return exitOK
	}
	shown := displayName(dir)
	count := map[output.DiffKind]int{}
	for _, d := range diffs {
		dirSlash := strings.HasSuffix(d.Path, "/")
		d.Path = path.Join(shown, d.Path)
		if dirSlash {
			d.Path += "/"
		}
		fmt.Fprintln(e.stderr, d.String())
		count[d.Kind]++
	}
	if len(diffs) == 0 {
		fmt.Fprintf(e.stderr, "meshc render --check: %s is up to date with %s, but an interrupted run left the directories above; run: meshc render %s -o %s\n",
			shown, input, input, shown)
		return exitInvalid
	}
	fmt.Fprintf(e.stderr, "meshc render --check: %s is out of date with %s (%d stale, %d missing, %d extra); run: meshc render %s -o %s\n",
		shown, input, count[output.Stale], count[output.Missing], count[output.Extra], input, shown)
	return exitInvalid
}
