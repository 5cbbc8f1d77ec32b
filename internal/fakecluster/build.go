package fakecluster

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Tools builds internal/cmd/fakecluster and returns a directory holding it
// as kubectl, istioctl and helm, for the front of a test's PATH. Built once,
// it starts in a few milliseconds: a plan's run calls the tools hundreds of
// times.
func Tools(t testing.TB) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := t.TempDir()
	exe := filepath.Join(bin, "fakecluster")
	cmd := exec.Command(goTool, "build", "-o", exe, "meshc.dev/meshc/internal/cmd/fakecluster")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the fake tools: %v\n%s", err, out)
	}
	for _, tool := range []string{"kubectl", "istioctl", "helm"} {
		if err := os.Symlink(exe, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	return bin
}
