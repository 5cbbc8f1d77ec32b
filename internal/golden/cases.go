package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"meshc.dev/meshc/internal/cases"
)

// WantSection is the txtar section that holds a case's expected output.
const WantSection = cases.Want

// Case is one invalid input and the problems meshc must report for it, kept
// side by side in a txtar archive (internal/cases reads it):
//
//	What the case checks, in a sentence or two.
//	-- mc003-undeclared-network.yaml --
//	(the input; its name is the file name in the expected positions)
//	-- want --
//	mc003-undeclared-network.yaml:14:16: spec.clusters[0].network: ... [MC003]
type Case struct {
	*cases.Case
	// Name is the input's file name, as problems name it.
	Name  string
	Input []byte
	// Want is the expected problems, one per element.
	Want []string
}

// ReadCases reads every *.txtar invalid-input case in dir, sorted by file
// name; each holds exactly one input.
func ReadCases(dir string) ([]*Case, error) {
	all, err := cases.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := make([]*Case, len(all))
	for i, c := range all {
		if len(c.Inputs) != 1 {
			return nil, fmt.Errorf("%s: want two sections, the input and %q", c.Path, WantSection)
		}
		out[i] = &Case{Case: c, Name: c.Inputs[0].Name, Input: c.Inputs[0].Data, Want: c.WantLines()}
	}
	return out, nil
}

// Check compares got with the case's expected problems, or rewrites the
// archive's want section when Update.
func (c *Case) Check(t testing.TB, got []string) {
	t.Helper()
	if Update {
		if err := c.Rewrite(cases.Lines(got)); err != nil {
			t.Fatal(err)
		}
		c.Want = got
	}
	if diff := cmp.Diff(c.Want, got); diff != "" {
		t.Errorf("%s: problems differ (-want +got); %s:\n%s", c.Path, hint, diff)
	}
}

// Want compares got with the want section of any case, or rewrites it when
// Update: change plans, peer findings, whatever the case's test produces.
func Want(t testing.TB, c *cases.Case, got []byte) {
	t.Helper()
	if Update {
		if err := c.Rewrite(got); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(string(c.Want), string(got)); diff != "" {
		t.Errorf("%s (-want +got); %s:\n%s", c.Path, hint, diff)
	}
}

// ExtractInputs writes every case's input in dir to to, under its own name,
// for tests that need the inputs as files (CLI scripts, hooks).
func ExtractInputs(dir, to string) error {
	cs, err := ReadCases(dir)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if err := os.WriteFile(filepath.Join(to, c.Name), c.Input, 0o644); err != nil {
			return err
		}
	}
	return nil
}
