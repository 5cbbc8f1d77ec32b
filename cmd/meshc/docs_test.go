package main

import (
	"testing"

	"meshc.dev/meshc/internal/docstest"
)

// TestDocs runs what the README and docs/ show: file excerpts are compared
// with the files, meshc commands run in process and their output is
// compared, links must resolve and every document must be reachable from the
// README (internal/docstest says how blocks are marked).
func TestDocs(t *testing.T) {
	docstest.Check(t, docstest.Config{
		Root: "../..",
		Docs: []string{
			"README.md", "docs/*.md", "examples/*/README.md",
			"internal/cmd/bench/README.md", "conformance/README.md",
		},
		Sandbox: []string{"examples"},
		Meshc:   Main,
		Index:   "README.md",
	})
}
