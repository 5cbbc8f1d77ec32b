package atomicdir

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

// helperEnv makes the test binary a process that runs one Replace and
// exits, so a test can kill it mid-swap through CrashEnv.
const helperEnv = "ATOMICDIR_TEST_HELPER"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		if os.Getenv("ATOMICDIR_TEST_NO_EXCHANGE") != "" {
			exchange = func(a, b string) error { return errNoExchange }
		}
		if err := Replace(dir, 0o755, tree("new")); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// tree is a render-like tree whose every file holds gen, so a mix of two
// generations is visible.
func tree(gen string) []File {
	var fs []File
	for _, p := range []string{"PLAN.md", "a/x.yaml", "a/y.yaml", "b/c/z.yaml"} {
		fs = append(fs, File{Path: p, Data: []byte(gen), Mode: 0o644})
	}
	return fs
}

// generation returns which whole tree dir holds ("old" or "new"), or fails
// the test on a missing, partial or mixed one.
func generation(t *testing.T, dir string) string {
	t.Helper()
	var gens []string
	for _, f := range tree("") {
		b, err := os.ReadFile(filepath.Join(dir, f.Path))
		if err != nil {
			t.Fatalf("%s is not a complete tree: %v", dir, err)
		}
		gens = append(gens, string(b))
	}
	gens = slices.Compact(gens)
	if len(gens) != 1 {
		t.Fatalf("%s mixes generations %v", dir, gens)
	}
	return gens[0]
}

// TestCrash kills a process running Replace after each step and checks
// what a reader finds then, and that the next Replace repairs and cleans up.
func TestCrash(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the helper kills itself with a Unix signal")
	}
	cases := []struct {
		step, want string
		noExchange bool
	}{
		{"staged", "old", false},
		{"swapped", "new", false},
		{"staged", "old", true},
		{"aside", "", true}, // the fallback's window: no directory until Recover
		{"swapped", "new", true},
	}
	for _, c := range cases {
		name := c.step
		if c.noExchange {
			name += "/two-renames"
		}
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "out")
			if err := Replace(dir, 0o755, tree("old")); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), helperEnv+"="+dir, CrashEnv+"="+c.step)
			if c.noExchange {
				cmd.Env = append(cmd.Env, "ATOMICDIR_TEST_NO_EXCHANGE=1")
			}
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Success() || ee.ExitCode() == 3 {
				t.Fatalf("helper was not killed at %s: %v", c.step, err)
			}
			left, err := Leftovers(dir)
			if err != nil || len(left) == 0 {
				t.Fatalf("Leftovers after a crash at %s = %v, %v; want the interrupted run's directories", c.step, left, err)
			}
			if c.want == "" {
				if _, err := os.Lstat(dir); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("expected the two-rename window (no %s), got %v", dir, err)
				}
				if _, err := Recover(dir); err != nil {
					t.Fatal(err)
				}
				c.want = "old"
			}
			if got := generation(t, dir); got != c.want {
				t.Errorf("after a crash at %s the directory holds %q, want %q", c.step, got, c.want)
			}
			if err := Replace(dir, 0o755, tree("next")); err != nil {
				t.Fatal(err)
			}
			if got := generation(t, dir); got != "next" {
				t.Errorf("the next Replace left %q", got)
			}
			entries, _ := os.ReadDir(parent)
			if len(entries) != 1 {
				t.Errorf("the next Replace left leftovers: %v", entries)
			}
		})
	}
}

// TestRecoverIgnoresOthers: only directories named by Replace are leftovers;
// a user's file or directory with a similar name is not touched.
func TestRecoverIgnoresOthers(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	for _, n := range []string{".out.new-1", ".outx.meshc-new-1", "out.meshc-new-1"} {
		if err := os.Mkdir(filepath.Join(parent, n), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(parent, ".out.meshc-new-file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if left, err := Recover(dir); err != nil || len(left) != 0 {
		t.Fatalf("Recover = %v, %v; want nothing", left, err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 4 {
		t.Errorf("Recover removed something not its own: %v", entries)
	}
}
