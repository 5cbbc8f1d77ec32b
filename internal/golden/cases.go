package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"
)

// WantSection is the txtar section that holds a case's expected problems,
// one per line.
const WantSection = "want"

// Case is one invalid input and the problems meshc must report for it, kept
// side by side in a txtar archive:
//
//	What the case checks, in a sentence or two.
//	-- mc003-undeclared-network.yaml --
//	(the input; its name is the file name in the expected positions)
//	-- want --
//	mc003-undeclared-network.yaml:14:16: spec.clusters[0].network: ... [MC003]
type Case struct {
	// Path is the archive's path.
	Path string
	// Name is the input's file name, as problems name it.
	Name  string
	Input []byte
	// Want is the expected problems, one per element.
	Want []string
	arch *txtar.Archive
}

// ReadCases reads every *.txtar case in dir, sorted by file name.
func ReadCases(dir string) ([]*Case, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil {
		return nil, err
	}
	var cases []*Case
	for _, p := range paths {
		c, err := readCase(p)
		if err != nil {
			return nil, err
		}
		cases = append(cases, c)
	}
	return cases, nil
}

func readCase(path string) (*Case, error) {
	a, err := txtar.ParseFile(path)
	if err != nil {
		return nil, err
	}
	if len(a.Files) != 2 || a.Files[1].Name != WantSection {
		return nil, fmt.Errorf("%s: want two sections, the input and %q", path, WantSection)
	}
	c := &Case{Path: path, Name: a.Files[0].Name, Input: a.Files[0].Data, arch: a}
	if w := strings.TrimSuffix(string(a.Files[1].Data), "\n"); w != "" {
		c.Want = strings.Split(w, "\n")
	}
	return c, nil
}

// Check compares got with the case's expected problems, or rewrites the
// archive's want section when Update.
func (c *Case) Check(t testing.TB, got []string) {
	t.Helper()
	if Update {
		want := strings.Join(got, "\n")
		if want != "" {
			want += "\n"
		}
		c.arch.Files[1].Data = []byte(want)
		if err := os.WriteFile(c.Path, txtar.Format(c.arch), 0o644); err != nil {
			t.Fatal(err)
		}
		c.Want = got
	}
	if diff := cmp.Diff(c.Want, got); diff != "" {
		t.Errorf("%s: problems differ (-want +got); %s:\n%s", c.Path, hint, diff)
	}
}

// ExtractInputs writes every case's input in dir to to, under its own name,
// for tests that need the inputs as files (CLI scripts, hooks).
func ExtractInputs(dir, to string) error {
	cases, err := ReadCases(dir)
	if err != nil {
		return err
	}
	for _, c := range cases {
		if err := os.WriteFile(filepath.Join(to, c.Name), c.Input, 0o644); err != nil {
			return err
		}
	}
	return nil
}
