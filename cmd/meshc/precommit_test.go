package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"meshc.dev/meshc/internal/docstest"
	"meshc.dev/meshc/internal/golden"
)

// hook is the part of a .pre-commit-hooks.yaml entry meshc relies on.
type hook struct {
	ID            string   `yaml:"id"`
	Name          string   `yaml:"name"`
	Description   string   `yaml:"description"`
	Entry         string   `yaml:"entry"`
	Language      string   `yaml:"language"`
	Files         string   `yaml:"files"`
	Types         []string `yaml:"types"`
	Args          []string `yaml:"args"`
	PassFilenames *bool    `yaml:"pass_filenames"`
}

func readHooks(t *testing.T) map[string]hook {
	t.Helper()
	data, err := os.ReadFile("../../.pre-commit-hooks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var list []hook
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&list); err != nil {
		t.Fatalf(".pre-commit-hooks.yaml: %v", err)
	}
	hooks := map[string]hook{}
	for _, h := range list {
		if h.ID == "" || h.Name == "" || h.Entry == "" {
			t.Errorf("hook %+v: id, name and entry are required", h)
		}
		if h.Language != "golang" {
			t.Errorf("hook %s: language %q; golang makes pre-commit build meshc with go install ./...", h.ID, h.Language)
		}
		hooks[h.ID] = h
	}
	return hooks
}

// runHook runs a hook the way pre-commit does: entry, then args, then the
// staged files that match unless pass_filenames is false. It calls Main in
// process, so the entry must be a real meshc command line.
func runHook(t *testing.T, h hook, args, staged []string) (int, string) {
	t.Helper()
	entry := strings.Fields(h.Entry)
	if entry[0] != "meshc" {
		t.Fatalf("hook %s: entry %q does not run meshc", h.ID, h.Entry)
	}
	argv := append(entry[1:], args...)
	if h.PassFilenames == nil || *h.PassFilenames {
		re := regexp.MustCompile(h.Files)
		for _, f := range staged {
			if re.MatchString(f) {
				argv = append(argv, f)
			}
		}
	}
	var stdout, stderr bytes.Buffer
	code := Main(argv, &stdout, &stderr)
	return code, stdout.String() + stderr.String()
}

func TestPreCommitHooks(t *testing.T) {
	hooks := readHooks(t)
	for _, id := range []string{"meshc-vet", "meshc-render-check"} {
		if _, ok := hooks[id]; !ok {
			t.Fatalf(".pre-commit-hooks.yaml has no hook %s", id)
		}
	}
	invalid := t.TempDir()
	if err := golden.ExtractInputs("../../compiler/testdata/invalid", invalid); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	copyFile(t, "../../examples/primary-remote/mesh.yaml", "mesh.yaml")
	copyFile(t, filepath.Join(invalid, "mc003-undeclared-network.yaml"), "bad/mesh.yaml")
	staged := []string{"mesh.yaml", "README.md", "out/PLAN.md"}

	vet := hooks["meshc-vet"]
	if code, out := runHook(t, vet, vet.Args, staged); code != exitOK {
		t.Errorf("meshc-vet on a valid mesh: exit %d\n%s", code, out)
	}
	if code, out := runHook(t, vet, vet.Args, append(staged, "bad/mesh.yaml")); code != exitInvalid || !strings.Contains(out, "[MC003]") {
		t.Errorf("meshc-vet on an invalid mesh: exit %d, want 1 with MC003\n%s", code, out)
	}

	check := hooks["meshc-render-check"]
	if code, _ := runHook(t, check, check.Args, staged); code != exitInvalid {
		t.Errorf("meshc-render-check before rendering: exit %d, want 1 (every file missing)", code)
	}
	if code := Main([]string{"render", "mesh.yaml", "-o", "out"}, &bytes.Buffer{}, &bytes.Buffer{}); code != exitOK {
		t.Fatalf("render: exit %d", code)
	}
	if code, out := runHook(t, check, check.Args, staged); code != exitOK {
		t.Errorf("meshc-render-check after rendering: exit %d\n%s", code, out)
	}
	copyFile(t, "../../examples/primary-remote-multi-network/mesh.yaml", "mesh.yaml")
	if code, out := runHook(t, check, check.Args, staged); code != exitInvalid || !strings.Contains(out, "out is out of date with mesh.yaml") {
		t.Errorf("meshc-render-check after editing the mesh: exit %d, want 1\n%s", code, out)
	}
}

// TestDocsPreCommitSnippet runs the .pre-commit-config.yaml that
// docs/pre-commit.md tells users to copy (the block marked with this test's
// name): its hook IDs must exist and its args must work.
func TestDocsPreCommitSnippet(t *testing.T) {
	hooks := readHooks(t)
	doc, err := os.ReadFile("../../docs/pre-commit.md")
	if err != nil {
		t.Fatal(err)
	}
	var snippet string
	for _, b := range docstest.Parse(string(doc)).Blocks {
		if b.Mark == "test" && b.Arg == "TestDocsPreCommitSnippet" {
			snippet = b.Text
		}
	}
	if snippet == "" {
		t.Fatal("docs/pre-commit.md has no block marked <!-- test: TestDocsPreCommitSnippet -->")
	}
	var cfg struct {
		Repos []struct {
			Repo  string
			Rev   string
			Hooks []struct {
				ID   string
				Args []string
			}
		}
	}
	if err := yaml.Unmarshal([]byte(snippet), &cfg); err != nil {
		t.Fatalf("docs/pre-commit.md snippet: %v", err)
	}
	if len(cfg.Repos) != 1 || len(cfg.Repos[0].Hooks) != len(hooks) {
		t.Fatalf("docs/pre-commit.md snippet should use one repo with all %d hooks: %+v", len(hooks), cfg)
	}
	t.Chdir(t.TempDir())
	copyFile(t, "../../examples/multi-primary/mesh.yaml", "mesh.yaml")
	if code := Main([]string{"render", "mesh.yaml", "-o", "out"}, &bytes.Buffer{}, &bytes.Buffer{}); code != exitOK {
		t.Fatalf("render: exit %d", code)
	}
	for _, h := range cfg.Repos[0].Hooks {
		def, ok := hooks[h.ID]
		if !ok {
			t.Errorf("docs/pre-commit.md uses hook %q, which .pre-commit-hooks.yaml does not define", h.ID)
			continue
		}
		args := def.Args
		if h.Args != nil {
			args = h.Args
		}
		if code, out := runHook(t, def, args, []string{"mesh.yaml"}); code != exitOK {
			t.Errorf("docs/pre-commit.md's %s: exit %d\n%s", h.ID, code, out)
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	// A relative from is relative to the package directory, which t.Chdir
	// left.
	if !filepath.IsAbs(from) {
		from = filepath.Join(pkgDir, from)
	}
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// pkgDir is the package directory, where go test starts.
var pkgDir, _ = os.Getwd()
