package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// traceMark starts bash's trace of each command plan.sh runs (bash -x with
// the default PS4; bash run as root ignores a PS4 from the environment).
const traceMark = "+ "

// PlanError is a plan that failed: the step it was in, the command, the
// kube contexts the command used and what came back.
type PlanError struct {
	Script  string
	Step    string // "3. Install the control plane of each primary"
	Command string
	// Contexts are the kube contexts of the failing command, in order;
	// Clusters the clusters they belong to.
	Contexts, Clusters []string
	Answer             string // the output after the command: the server's or the tool's answer
	Err                error
}

func (e *PlanError) Error() string {
	return fmt.Sprintf("%s failed at step %q on cluster %s (context %s): %v\ncommand: %s\nanswer:\n%s",
		e.Script, e.Step, strings.Join(e.Clusters, ", "), strings.Join(e.Contexts, ", "), e.Err, e.Command, indent(e.Answer))
}

// RunPlan runs script with bash as a user would (bash plan.sh), with env
// added, and the trace of its commands. The whole output goes to log. A
// failure is a *PlanError.
func RunPlan(script, dir string, env []string, contexts map[string]string, log io.Writer) error {
	var out bytes.Buffer
	cmd := exec.Command("bash", "-x", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	w := io.MultiWriter(&out, log)
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		pe := parseFailure(out.String(), contexts)
		pe.Script, pe.Err = filepath.Base(script), err
		if text, rerr := os.ReadFile(script); rerr == nil {
			if line := scriptLine(string(text), pe.Step, pe.Command); line != "" {
				pe.Command = line
			}
		}
		pe.Contexts, pe.Clusters = nil, nil
		pe.setContexts(contexts)
		return pe
	}
	return nil
}

var contextFlag = regexp.MustCompile(`--(?:kube-)?context[= ]'?([^' ]+)'?`)

// parseFailure reads a plan's traced output: the last "==> N. title" line
// is the step, the last run of consecutive traced commands is the failing
// command (a pipeline traces each of its commands), what follows is its
// answer. contexts maps a kube context to its cluster.
func parseFailure(output string, contexts map[string]string) *PlanError {
	pe := &PlanError{}
	var cmds, answer []string
	inTrace := false
	sc := bufio.NewScanner(strings.NewReader(output))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if c, ok := strings.CutPrefix(line, traceMark); ok {
			if strings.HasPrefix(c, "echo ") || strings.HasPrefix(c, "cd ") || !isTool(c) {
				continue
			}
			if !inTrace {
				cmds, answer = nil, nil
			}
			cmds = append(cmds, c)
			inTrace = true
			continue
		}
		inTrace = false
		if s, ok := strings.CutPrefix(line, "==> "); ok {
			pe.Step, cmds, answer = s, nil, nil
			continue
		}
		answer = append(answer, line)
	}
	pe.Command = strings.Join(cmds, " | ")
	pe.Answer = strings.Join(answer, "\n")
	pe.setContexts(contexts)
	return pe
}

// setContexts reads the contexts of the failing command, in order.
func (pe *PlanError) setContexts(contexts map[string]string) {
	for _, m := range contextFlag.FindAllStringSubmatch(pe.Command, -1) {
		pe.Contexts = append(pe.Contexts, m[1])
		cl := contexts[m[1]]
		if cl == "" {
			cl = "?"
		}
		pe.Clusters = append(pe.Clusters, cl)
	}
}

// scriptLine finds the line of the script that ran the traced command:
// the first line after the step's header with the same tools and contexts
// (a trace shows a pipeline's commands in any order, expanded).
func scriptLine(script, step, traced string) string {
	want := signature(traced)
	inStep := false
	for _, line := range strings.Split(script, "\n") {
		if strings.HasPrefix(line, "echo '==> ") {
			n, _, _ := strings.Cut(step, " ")
			inStep = strings.HasPrefix(line, "echo '==> "+n+" ")
			continue
		}
		if inStep && signature(line) == want {
			return line
		}
	}
	return ""
}

// signature is a command line's tools and their contexts, in sorted order.
func signature(cmdline string) string {
	var sig []string
	for _, c := range strings.Split(cmdline, "|") {
		c = strings.TrimSpace(c)
		if !isTool(c) {
			continue
		}
		tool, _, _ := strings.Cut(c, " ")
		s := tool
		for _, m := range contextFlag.FindAllStringSubmatch(c, -1) {
			s += " " + m[1]
		}
		sig = append(sig, s)
	}
	sort.Strings(sig)
	return strings.Join(sig, "|")
}

func isTool(cmd string) bool {
	for _, t := range []string{"kubectl ", "istioctl ", "helm "} {
		if strings.HasPrefix(cmd, t) {
			return true
		}
	}
	return false
}

func indent(s string) string {
	if s == "" {
		return "  (nothing)"
	}
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
