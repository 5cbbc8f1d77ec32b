package compiler_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/output"
	"meshc.dev/meshc/render"
)

// standIn records its name and arguments, one file per call, NUL-separated,
// so that the test sees the argv the shell built: nothing is re-parsed.
const standIn = `#!/usr/bin/env bash
printf '%s\0' "${0##*/}" "$@" > "$ARGV_LOG/$BASHPID.$SRANDOM"
# The verify-root phase reads cacerts' ca.crt: the mesh's root.
if [[ "$*" == *'jsonpath={.data.ca\.crt}'* ]]; then base64 < "$ARGV_CA_ROOT"; fi
`

// planTools are the programs the plan and its GitOps bootstrap call, and
// the options meshc passes each. An argument that starts with '-' and is not
// one of these reads as an option meshc never meant. valueFlags take the
// next argument as their value, as pflag does whatever it starts with.
var (
	planTools = map[string][]string{
		"kubectl":  {"--context", "-f", "-k", "-n", "-o", "--for", "--timeout", "--server-side", "--field-manager", "--ignore-not-found", "--overwrite", "--audience", "--duration", "--from-file", "--local", "-"},
		"istioctl": {"-y", "--context", "-f", "--name", "--server"},
		"helm":     {"--install", "--version", "--namespace", "--kube-context", "--wait", "-f", "--force-update"},
		"argocd":   {"--yes", "--name"},
		"flux":     {"--context", "--namespace", "--url", "--private-key-file"},
	}
	valueFlags = map[string]bool{"-f": true, "-k": true, "-n": true, "-o": true, "--version": true, "--namespace": true, "--kube-context": true, "--name": true}
)

// TestPlanArgv runs the plan.sh of each rich mesh, with hostile contexts and
// API servers, against stand-in kubectl, istioctl and helm, and the GitOps
// bootstrap's commands against stand-in argocd and flux, and checks the argv
// each program receives: every call names one kubeconfig context, exactly
// as the Mesh spells a cluster's; every option is one meshc passes; a Mesh
// value appears only whole, as an option's value; istioctl's --server is
// the API server of the cluster the call names. CERTS_DIR and the script's
// output directory start with '-' too. A context starting with '-' would
// be an option to a tool that takes it as a positional argument (argocd
// cluster add): Load refuses it, at its position.
func TestPlanArgv(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("plan.sh needs bash: ", err)
	}
	for _, file := range richMeshes {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, _ := hostileMesh(t, file)
			m, out, err := compiler.Compile(file, data)
			if err != nil {
				t.Fatal(err)
			}
			calls := runPlan(t, bash, m, out, file == richMeshes[0])
			checkArgv(t, m, calls)
		})
		t.Run(name+"/leading-dash", func(t *testing.T) {
			t.Parallel()
			doc := parseMesh(t, file)
			_, maps := schemaStrings()
			var want []string
			for _, s := range scalars(doc, maps) {
				switch s.n.Value {
				case "ctxmarker2":
					s.n.Value = "--kubeconfig=/tmp/evil"
				case "ctxmarker3":
					s.n.Value = "-n"
				default:
					continue
				}
				want = append(want, fmt.Sprintf("%s:%d:%d: %s", file, s.n.Line, s.n.Column, s.path))
			}
			m, out, err := compiler.Compile(file, encodeYAML(t, doc, nil))
			if err == nil {
				t.Errorf("contexts starting with '-' accepted; want problems at %v", want)
				checkArgv(t, m, runPlan(t, bash, m, out, false))
				return
			}
			ps, _ := err.(diag.Problems)
			var got []string
			for _, p := range ps {
				got = append(got, fmt.Sprintf("%s:%d:%d: %s", p.Pos.Filename, p.Pos.Line, p.Pos.Column, p.Path))
			}
			if !slices.Equal(got, want) {
				t.Errorf("problems at %v, want %v (%v)", got, want, err)
			}
		})
	}
}

// call is one program run: its name and arguments.
type call struct {
	tool string
	args []string
}

// runPlan writes out to a directory, runs its plan.sh, with outDir a plan.sh
// that changes into "-out" (meshc plan --format shell -o -out), and the
// GitOps bootstrap, with stand-in tools, and returns every call they made.
func runPlan(t *testing.T, bash string, m *mesh.Mesh, out *output.Output, outDir bool) []call {
	t.Helper()
	dir := t.TempDir()
	bin, log := filepath.Join(dir, "bin"), filepath.Join(dir, "log")
	for _, d := range []string{bin, log, filepath.Join(dir, "-certs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p string, data []byte, mode os.FileMode) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
	}
	for tool := range planTools {
		write(filepath.Join(bin, tool), []byte(standIn), 0o755)
	}
	write(filepath.Join(dir, "-certs", "root-cert.pem"), []byte("root\n"), 0o644)
	write(filepath.Join(dir, "ca-root.pem"), meshRoot(m), 0o644)
	for _, f := range out.Files {
		for _, root := range []string{"out", "-out"} {
			write(filepath.Join(dir, root, f.Path), f.Data, 0o755)
		}
	}
	script, err := render.RenderPlanShell(render.BuildPlan(m), render.ShellOptions{OutDir: "-out"})
	if err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(dir, "plan-out.sh"), script, 0o755)
	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"ARGV_LOG="+log, "ARGV_CA_ROOT="+filepath.Join(dir, "ca-root.pem"), "CERTS_DIR=-certs", "MANAGEMENT_CONTEXT=mgmt")
	run := func(args ...string) {
		cmd := exec.Command(bash, args...)
		cmd.Dir, cmd.Env = dir, env
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("bash %s: %v\n%s", strings.Join(args, " "), err, b)
		}
	}
	run("out/plan.sh")
	if outDir {
		run("plan-out.sh")
	}
	if b := render.BuildPlan(m).GitOps; b != nil {
		cmds := []string{b.RegisterScript(), b.ApplyRoot()}
		if b.RepositoryCredentials != "" {
			cmds = append(cmds, b.RepositoryCredentials)
		}
		run("-c", "set -euo pipefail\ncd out\n"+strings.Join(cmds, "\n"))
	}
	entries, err := os.ReadDir(log)
	if err != nil {
		t.Fatal(err)
	}
	var calls []call
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(log, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		fields := strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
		calls = append(calls, call{tool: fields[0], args: fields[1:]})
	}
	if len(calls) < 10 {
		t.Fatalf("%d calls recorded; the plan should make many more", len(calls))
	}
	return calls
}

// checkArgv checks every call against the Mesh (see TestPlanArgv).
func checkArgv(t *testing.T, m *mesh.Mesh, calls []call) {
	t.Helper()
	byContext := map[string]*mesh.Cluster{}
	var values []string // the Mesh's free text that reaches the commands
	for i := range m.Spec.Clusters {
		c := &m.Spec.Clusters[i]
		byContext[c.Context] = c
		values = append(values, c.Context)
		if c.APIServer != "" {
			values = append(values, c.APIServer)
		}
	}
	used := map[string]bool{}
	for _, c := range calls {
		flags := planTools[c.tool]
		var contexts []string
		server, clusterName := "", ""
		for i := 0; i < len(c.args); i++ {
			a := c.args[i]
			flag, value, hasValue := strings.Cut(a, "=")
			switch {
			case c.tool == "argocd" && i == 2 && slices.Equal(c.args[:2], []string{"cluster", "add"}):
				if strings.HasPrefix(a, "-") {
					t.Errorf("%s %q: the context %q is where argocd reads an option", c.tool, c.args, a)
				}
				contexts = append(contexts, a)
				continue
			case !strings.HasPrefix(a, "-") || a == "-":
				for _, v := range values {
					if strings.Contains(a, v) {
						t.Errorf("%s %q: argument %q holds %q, not as an option's value", c.tool, c.args, a, v)
					}
				}
				continue
			case !slices.Contains(flags, flag):
				t.Errorf("%s %q: argument %q reads as an option meshc never passes", c.tool, c.args, a)
				continue
			}
			if !hasValue && valueFlags[flag] && i+1 < len(c.args) {
				i++
				value, hasValue = c.args[i], true
			}
			switch flag {
			case "--context", "--kube-context":
				contexts = append(contexts, value)
			case "--server":
				server = value
			case "--name":
				clusterName = value
			default:
				for _, v := range values {
					if hasValue && strings.Contains(value, v) {
						t.Errorf("%s %q: option %s holds %q", c.tool, c.args, flag, v)
					}
				}
			}
		}
		if len(contexts) == 0 && c.tool == "helm" && slices.Equal(c.args[:2], []string{"repo", "add"}) {
			continue // the chart repository, on this machine
		}
		if len(contexts) == 0 && c.tool == "kubectl" && slices.Equal(c.args[:2], []string{"label", "--local"}) {
			continue // labels the remote secret istioctl printed, on this machine
		}
		if len(contexts) != 1 {
			t.Errorf("%s %q names contexts %q, want exactly one", c.tool, c.args, contexts)
			continue
		}
		ctx := contexts[0]
		if ctx == "mgmt" && (c.tool == "flux" || c.tool == "kubectl" && clusterName == "") {
			continue // the GitOps bootstrap, on the management cluster
		}
		cl, ok := byContext[ctx]
		if !ok {
			t.Errorf("%s %q: context %q is no cluster's context in the Mesh", c.tool, c.args, ctx)
			continue
		}
		used[ctx] = true
		if server != "" && (server != cl.APIServer || clusterName != cl.Name) {
			t.Errorf("%s %q: --server=%q --name=%q, want the API server %q of cluster %q, whose context the call names",
				c.tool, c.args, server, clusterName, cl.APIServer, cl.Name)
		}
	}
	for ctx, c := range byContext {
		if !used[ctx] {
			t.Errorf("no call names cluster %s's context %q", c.Name, ctx)
		}
	}
}
