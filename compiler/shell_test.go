package compiler_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/output"
	"meshc.dev/meshc/render"
	"meshc.dev/meshc/templates"
)

// standIns is a PATH of stand-ins for every command a script may call:
// each logs its call and then fails if it is the call the run says, or
// else does what the test gives it to do. A stand-in whose input is a pipe
// reads it to the end first, so the calls of a pipeline are logged in
// order, with a "|" in front.
type standIns struct {
	bash, bin string
}

// Stand-in bodies: what a stand-in does once it has logged its call.
const (
	succeed = "exit 0"
	// passThrough runs the real command.
	passThrough = "real"
)

// newStandIns writes a stand-in per tool with its body (bash, builtins
// only: the PATH holds nothing but stand-ins). fixed are stand-ins that
// neither log nor fail: commands whose failure the script handles itself.
func newStandIns(t *testing.T, tools, fixed map[string]string) *standIns {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash to run scripts with")
	}
	s := &standIns{bash: bash, bin: t.TempDir()}
	write := func(tool, script string) {
		if err := os.WriteFile(filepath.Join(s.bin, tool), []byte("#!"+bash+"\n"+script+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for tool, body := range tools {
		if body == passThrough {
			real, err := exec.LookPath(tool)
			if err != nil {
				t.Fatal(err)
			}
			body = "exec " + templates.Shell(real) + ` "$@"`
		}
		write(tool, fmt.Sprintf(`if [[ -p /dev/stdin ]]; then while IFS= read -r _; do :; done; piped='|'; else piped=''; fi
{ read -r n < "$STANDIN_DIR/count"; } 2>/dev/null || n=0
n=$((n + 1))
printf '%%s\n' "$n" > "$STANDIN_DIR/count"
printf '%%s%%s %%s\n' "$piped" %s "$*" >> "$STANDIN_DIR/log"
if [[ $n == "${STANDIN_FAIL:-0}" ]]; then echo %s': failing, as the test asks' >&2; exit 3; fi
%s`, templates.Shell(tool), templates.Shell(tool), body))
	}
	for tool, body := range fixed {
		if body == passThrough {
			real, err := exec.LookPath(tool)
			if err != nil {
				t.Fatal(err)
			}
			body = "exec " + templates.Shell(real) + ` "$@"`
		}
		write(tool, body)
	}
	return s
}

var mktempName = regexp.MustCompile(`tmp\.[0-9A-Za-z]{10}`)

// run runs script in dir, failing call fail (0: none); it returns the calls
// logged, the output and the error.
func (s *standIns) run(t *testing.T, script, dir string, fail int, env ...string) ([]string, string, error) {
	t.Helper()
	state := t.TempDir()
	cmd := exec.Command(s.bash, script)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + s.bin, "STANDIN_DIR=" + state, "STANDIN_FAIL=" + strconv.Itoa(fail), "HOME=" + state}, env...)
	out, err := cmd.CombinedOutput()
	log, _ := os.ReadFile(filepath.Join(state, "log"))
	// A directory mktemp names differs from run to run.
	log = mktempName.ReplaceAll(log, []byte("tmp.XXXXXXXXXX"))
	return strings.Split(strings.TrimSuffix(string(log), "\n"), "\n"), string(out), err
}

// stopsAtEachFailure runs script once with every call succeeding, which
// must end with success, then once per call with that call failing: the
// script must then exit non-zero, not print success, and make no call after
// the failing one but the rest of its pipeline.
func (s *standIns) stopsAtEachFailure(t *testing.T, script, dir, success string, env ...string) {
	t.Helper()
	all, out, err := s.run(t, script, dir, 0, env...)
	if err != nil || !strings.Contains(out, success) {
		t.Fatalf("%s with every call succeeding: %v\n%s", script, err, out)
	}
	for k := 1; k <= len(all); k++ {
		calls, out, err := s.run(t, script, dir, k, env...)
		end := k
		for end < len(all) && strings.HasPrefix(all[end], "|") {
			end++ // the rest of the failing call's pipeline runs
		}
		switch {
		case err == nil:
			t.Errorf("%s: call %d (%s) fails, the script exits 0:\n%s", script, k, all[k-1], out)
		case strings.Contains(out, success):
			t.Errorf("%s: call %d (%s) fails, the script still says %q:\n%s", script, k, all[k-1], success, out)
		case strings.Join(calls, "\n") != strings.Join(all[:end], "\n"):
			t.Errorf("%s: call %d (%s) fails; the calls are\n%s\nwant\n%s", script, k, all[k-1], strings.Join(calls, "\n"), strings.Join(all[:end], "\n"))
		}
	}
}

// TestPlanStopsAtEachFailure: every step of a plan stops plan.sh when it
// fails, whatever its shape (a pipeline, an && list in a subshell, a
// guarded removal), and so does each command of a step. The plans are the
// examples' whose steps have every shape an install plan has
// (federation-east's for the gateway-api check, a guarded command), and
// change plans with every kind of removal, run with MESHC_ALLOW_DESTRUCTIVE=1;
// kubectl, istioctl and helm are stand-ins, install, cp and dirname the real
// ones (the vm-files step writes into CERTS_DIR).
func TestPlanStopsAtEachFailure(t *testing.T) {
	s := newStandIns(t, map[string]string{"kubectl": succeed, "istioctl": succeed, "helm": succeed,
		"install": passThrough, "cp": passThrough, "dirname": passThrough}, nil)
	certsDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(certsDir, render.VMRootCertFile), []byte("root\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"CERTS_DIR=" + certsDir, "MESHC_ALLOW_DESTRUCTIVE=1"}
	for _, example := range []string{"vm", "helm-primary-remote-multi-network", "federation-east"} {
		t.Run(example, func(t *testing.T) {
			p := filepath.Join("..", "examples", example, "mesh.yaml")
			_, out, err := compiler.Compile(p, mustRead(t, p))
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "out")
			if err := output.Write(out, dir); err != nil {
				t.Fatal(err)
			}
			s.stopsAtEachFailure(t, filepath.Join(dir, render.PlanScript), t.TempDir(), "==> done", env...)
		})
	}
	for _, c := range changeCases(t) {
		switch c.name {
		case "cluster-removed", "helm-cluster-removed", "gateway-removed", "intermediate-reissued", "address-forgotten":
		default:
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			out, err := render.Render(c.new)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "out")
			if err := output.Write(out, dir); err != nil {
				t.Fatal(err)
			}
			p, err := render.BuildChangePlan(c.old, c.new, render.ChangeOptions{Reissued: c.reissued})
			if err != nil {
				t.Fatal(err)
			}
			sh, err := render.RenderPlanShell(p, render.ShellOptions{OutDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			script := filepath.Join(t.TempDir(), "change.sh")
			if err := os.WriteFile(script, sh, 0o755); err != nil {
				t.Fatal(err)
			}
			s.stopsAtEachFailure(t, script, t.TempDir(), "==> done", env...)
		})
	}
}
