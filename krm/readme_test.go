package krm_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestReadmeShowsExample keeps the README's kustomize section honest: each
// code block marked `<!-- file: PATH -->` (optionally `lines A-B`) must be
// that file's text, so the README shows exactly the example the tests build.
func TestReadmeShowsExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)<!-- file: (\\S+)(?: lines (\\d+)-(\\d+))? -->\n```[a-z]*\n(.*?)```\n")
	found := block.FindAllStringSubmatch(string(readme), -1)
	if len(found) < 3 {
		t.Fatalf("README shows %d marked example files, want at least 3", len(found))
	}
	for _, m := range found {
		name, shown := m[1], m[4]
		data, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(name)))
		if err != nil {
			t.Errorf("README shows %s: %v", name, err)
			continue
		}
		want := string(data)
		if m[2] != "" {
			var from, to int
			fmt.Sscan(m[2], &from)
			fmt.Sscan(m[3], &to)
			lines := strings.SplitAfter(want, "\n")
			if from < 1 || to > len(lines) || from > to {
				t.Errorf("README shows lines %d-%d of %s, which has %d lines", from, to, name, len(lines))
				continue
			}
			want = strings.Join(lines[from-1:to], "")
		}
		if diff := cmp.Diff(want, shown); diff != "" {
			t.Errorf("README's copy of %s is stale (-file +README):\n%s", name, diff)
		}
	}
}
