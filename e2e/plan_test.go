package e2e

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A failing plan names its step, the command, its clusters and the answer,
// whatever step fails: the failing kubectl here stands for an API server
// refusing an object.
func TestRunPlanNamesTheFailure(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o700); err != nil {
		t.Fatal(err)
	}
	// kubectl fails only on cluster2, as a server's refusal would.
	kubectl := "#!/bin/sh\ncase \"$*\" in *context=cluster2*) echo 'Error from server (Forbidden): namespaces is forbidden' >&2; exit 1;; esac\necho applied\n"
	istioctl := "#!/bin/sh\necho 'apiVersion: v1'\n"
	for name, body := range map[string]string{"kubectl": kubectl, "istioctl": istioctl} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	script := filepath.Join(dir, "plan.sh")
	plan := `#!/usr/bin/env bash
set -euo pipefail
echo '==> 1. Create istio-system with its topology label or annotation'
kubectl --context=ctx-1 apply -f a.yaml
echo '==> 6. Give every primary read access to every other cluster'\''s API server'
istioctl create-remote-secret --context=ctx-1 --name=cluster1 | kubectl apply -f - --context=cluster2
echo '==> done'
`
	if err := os.WriteFile(script, []byte(plan), 0o700); err != nil {
		t.Fatal(err)
	}
	err := RunPlan(script, dir, []string{"PATH=" + bin + ":" + os.Getenv("PATH")},
		map[string]string{"ctx-1": "cluster1", "cluster2": "cluster2"}, io.Discard)
	var pe *PlanError
	if !errors.As(err, &pe) {
		t.Fatalf("RunPlan = %v, want a *PlanError", err)
	}
	want := PlanError{
		Script:   "plan.sh",
		Step:     "6. Give every primary read access to every other cluster's API server",
		Command:  "istioctl create-remote-secret --context=ctx-1 --name=cluster1 | kubectl apply -f - --context=cluster2",
		Contexts: []string{"ctx-1", "cluster2"},
		Clusters: []string{"cluster1", "cluster2"},
		Answer:   "Error from server (Forbidden): namespaces is forbidden",
	}
	got := *pe
	got.Err = nil
	if strings.Join([]string{got.Script, got.Step, got.Command, strings.Join(got.Contexts, ","), strings.Join(got.Clusters, ","), got.Answer}, "\n") !=
		strings.Join([]string{want.Script, want.Step, want.Command, strings.Join(want.Contexts, ","), strings.Join(want.Clusters, ","), want.Answer}, "\n") {
		t.Errorf("PlanError:\n%+v\nwant:\n%+v", got, want)
	}
	if !strings.Contains(pe.Error(), `step "6. Give every primary`) || !strings.Contains(pe.Error(), "Forbidden") {
		t.Errorf("message does not name the step and the answer:\n%s", pe.Error())
	}
}
