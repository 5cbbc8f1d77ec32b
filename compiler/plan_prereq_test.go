package compiler_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/output"
	"meshc.dev/meshc/render"
)

// gatewayAPIClusters are the clusters whose rendered manifests hold a
// Gateway API object: read from the output, so a new file of that kind is
// seen without anyone listing it.
func gatewayAPIClusters(o *output.Output) []string {
	var out []string
	for _, f := range o.Files {
		cluster, rest, _ := strings.Cut(f.Path, "/")
		if strings.HasPrefix(rest, render.ManifestsDir+"/") && strings.Contains(string(f.Data), "\napiVersion: gateway.networking.k8s.io/") &&
			!slices.Contains(out, cluster) {
			out = append(out, cluster)
		}
	}
	return out
}

// TestGatewayAPICheckedFirst: every plan that applies Gateway API objects
// first checks, in each cluster that gets them, that the CRDs are there,
// before it changes anything; no other plan has the check. With GitOps the
// bootstrap steps say to run it.
func TestGatewayAPICheckedFirst(t *testing.T) {
	users := 0
	for _, ex := range examples(t) {
		m, o, err := compiler.Compile(ex+"/mesh.yaml", mustRead(t, "../examples/"+ex+"/mesh.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		want := gatewayAPIClusters(o)
		p := render.BuildPlan(m)
		var got []string
		for i, ph := range p.Phases {
			if ph.ID != render.PhaseGatewayAPI {
				continue
			}
			if i != 0 {
				t.Errorf("%s: phase %s is phase %d, want the first", ex, ph.ID, i+1)
			}
			for _, s := range ph.Steps {
				got = append(got, s.Cluster)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: the plan checks the Gateway API CRDs in %v; the output applies Gateway API objects in %v", ex, got, want)
		}
		if len(want) > 0 {
			users++
		}
	}
	if users == 0 {
		t.Fatal("no example applies Gateway API objects")
	}
}

// TestGatewayAPICheckStops runs the gateway-api phase with a kubectl that
// finds the CRD and with one that does not: the plan goes on, or stops
// with what to do, naming the cluster.
func TestGatewayAPICheckStops(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	m, _, err := compiler.Compile("mesh.yaml", mustRead(t, "../examples/federation-east/mesh.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var script string
	for _, ph := range render.BuildPlan(m).Phases {
		if ph.ID == render.PhaseGatewayAPI {
			script = ph.Script()
		}
	}
	if script == "" {
		t.Fatal("no gateway-api phase")
	}
	for _, tt := range []struct {
		name, kubectl string
		wantExit      bool
		wantOut       string
	}{
		{"CRDs installed", "echo customresourcedefinition.apiextensions.k8s.io/gateways.gateway.networking.k8s.io", false, ""},
		{"CRDs missing", "echo 'Error from server (NotFound)' >&2; exit 1", true, "plan: cluster east1 has no Gateway API CRDs"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bin := t.TempDir()
			if err := os.WriteFile(filepath.Join(bin, "kubectl"), []byte("#!/bin/sh\n"+tt.kubectl+"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bash, "-euo", "pipefail", "-c", script)
			cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
			out, err := cmd.CombinedOutput()
			if (err != nil) != tt.wantExit || !strings.Contains(string(out), tt.wantOut) {
				t.Errorf("gateway-api phase: %v\n%s\nwant failure %v and output containing %q", err, out, tt.wantExit, tt.wantOut)
			}
		})
	}
}

// TestGitOpsBootstrapChecksGatewayAPI: a GitOps mesh that imports tells
// its user to run the gateway-api phase before the engine applies the
// peers' Gateways, for both ways secrets reach the clusters.
func TestGitOpsBootstrapChecksGatewayAPI(t *testing.T) {
	for _, secrets := range []string{"external-secrets", "out-of-band"} {
		gitops := "  installer: helm\n  gitops:\n    engine: argocd\n    repoURL: https://git.example.com/mesh.git\n    secrets: " + secrets + "\n"
		data := strings.Replace(string(mustRead(t, "../examples/federation-east/mesh.yaml")), "\nspec:\n", "\nspec:\n"+gitops, 1)
		m, err := compiler.Vet("mesh.yaml", []byte(data))
		if err != nil {
			t.Fatalf("%v\n%s", err, data)
		}
		md, err := render.RenderPlanMarkdown(render.BuildPlan(m))
		if err != nil {
			t.Fatal(err)
		}
		_, bootstrap, ok := strings.Cut(string(md), "## Or: let Argo CD install")
		if !ok || !strings.Contains(bootstrap, "phase `gateway-api`") && !strings.Contains(bootstrap, "`gateway-api`, `namespaces`") {
			t.Errorf("secrets %s: the GitOps bootstrap does not say to run the gateway-api phase:\n%s", secrets, bootstrap)
		}
	}
}

// TestPlanSaysWhatRoutesIstiodAddress: meshc routes nothing to an
// istiod.address, so the plan says, before the remotes and VMs need it,
// what must: the address, istiod's cluster, 15012 for everyone and 15017
// for remotes, and who dials it.
func TestPlanSaysWhatRoutesIstiodAddress(t *testing.T) {
	base := string(mustRead(t, "../examples/primary-remote/mesh.yaml"))
	withAddress := strings.Replace(base, "        address: 192.0.2.10\n", "        address: 192.0.2.10\n      istiod:\n        address: 192.0.2.50\n", 1)
	for _, tt := range []struct {
		name, data string
		want, not  []string
	}{
		{"remote at istiod.address", withAddress,
			[]string{"`192.0.2.50`", "`cluster1`'s istiod", "`cluster2`", "port 15012", "port 15017"}, nil},
		{"VMs and a remote at istiod.address", withAddress + vmGroupAt("cluster1"),
			[]string{"`192.0.2.50`", "`cluster2`", "the VMs of `web-vms/web`", "port 15012", "port 15017", "`istiod.istio-system.svc`"}, nil},
		{"istiod on the east-west gateway", base, nil, []string{"istiod.address"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := compiler.Vet("mesh.yaml", []byte(tt.data))
			if err != nil {
				t.Fatalf("%v\n%s", err, tt.data)
			}
			md, err := render.RenderPlanMarkdown(render.BuildPlan(m))
			if err != nil {
				t.Fatal(err)
			}
			_, expose, _ := strings.Cut(string(md), "Expose services and istiod through the east-west gateways")
			expose, _, _ = strings.Cut(expose, "```")
			for _, w := range tt.want {
				if !strings.Contains(expose, w) {
					t.Errorf("the expose phase does not say %q:\n%s", w, expose)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(string(md), w) {
					t.Errorf("the plan mentions %q:\n%s", w, expose)
				}
			}
		})
	}
}

// vmGroupAt is a workload group registering with cluster, for spec.
func vmGroupAt(cluster string) string {
	return `  workloadGroups:
    - name: web
      namespace: web-vms
      network: network1
      cluster: ` + cluster + `
`
}
