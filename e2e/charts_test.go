package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// helm reaches Istio's chart repository through the stand-in, finds the
// charts meshc installs (the ambient ones too) at the Mesh's version, and reaches nothing else.
func TestChartRepo(t *testing.T) {
	if tools == nil {
		t.Skip("needs the built helm and Istio charts (MESHC_E2E=1, make e2e)")
	}
	dir := t.TempDir()
	r, err := StartChartRepo(dir, tools, "1.28.0")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	helm := func(args ...string) (string, error) {
		cmd := exec.Command(tools.Bin("helm", "helm"), args...)
		cmd.Env = append(append(os.Environ(), r.Env()...), "HOME="+dir)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := helm("repo", "add", "--force-update", "istio", "https://"+ChartHost+"/charts"); err != nil {
		t.Fatalf("helm repo add: %v\n%s", err, out)
	}
	out, err := helm("search", "repo", "istio/", "--version", "1.28.0")
	if err != nil {
		t.Fatalf("helm search: %v\n%s", err, out)
	}
	for _, chart := range []string{"istio/base", "istio/gateway", "istio/istiod", "istio/cni", "istio/ztunnel"} {
		if !strings.Contains(out, chart+" ") && !strings.Contains(out, chart+"\t") {
			t.Errorf("helm search: no %s at 1.28.0:\n%s", chart, out)
		}
	}
	if out, err := helm("repo", "add", "other", "https://charts.example.com/"); err == nil || !strings.Contains(out, "Forbidden") {
		t.Errorf("another repository was reached (err %v):\n%s", err, out)
	}
}
