package e2e

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// StopAll must leave nothing running: not the processes started, not their
// children (a server that forks, a shell that started one), and not a
// process that ignores SIGTERM.
func TestStopAllEndsProcessGroups(t *testing.T) {
	dir := t.TempDir()
	p := NewProcs(dir)
	// A shell that starts a child that ignores SIGTERM and prints its PID.
	pr, err := p.Start("stubborn", nil, dir, "bash", "-c", `(trap '' TERM; echo $BASHPID; exec sleep 300) & wait`)
	if err != nil {
		t.Fatal(err)
	}
	child := waitForPID(t, pr.Log)
	if err := p.StopAll(200 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int{pr.Pid(), child} {
		if alive(pid) {
			t.Errorf("process %d still running after StopAll", pid)
		}
	}
	if err := p.StopAll(time.Second); err != nil {
		t.Errorf("second StopAll: %v", err)
	}
}

// A process that ends by itself is reported as ended.
func TestExited(t *testing.T) {
	p := NewProcs(t.TempDir())
	pr, err := p.Start("false", nil, "", "false")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if done, err := pr.Exited(); done {
			if err == nil {
				t.Fatal("false exited without an error")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("false still running")
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = p.StopAll(time.Second)
}

func waitForPID(t *testing.T, log string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(log)
		if s := strings.TrimSpace(string(b)); s != "" {
			pid, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("log %q", s)
			}
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no PID in the log")
	return 0
}

// alive reports whether pid runs (a zombie left for init counts as ended).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	out, err := exec.Command("ps", "-o", "stat=", "-p", strconv.Itoa(pid)).Output()
	return err == nil && !strings.HasPrefix(strings.TrimSpace(string(out)), "Z")
}
