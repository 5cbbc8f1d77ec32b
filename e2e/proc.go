package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Procs starts long-running processes, each in its own process group, and
// stops every one of them (and whatever they started) in reverse order. It
// is the only way the harness starts a server, so Stop is the one place
// that has to be right for "nothing is left running".
type Procs struct {
	mu    sync.Mutex
	procs []*Proc
	dir   string // logs
}

// Proc is one started process.
type Proc struct {
	Name string
	Log  string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// NewProcs returns a supervisor writing each process's output to
// dir/<name>.log.
func NewProcs(dir string) *Procs { return &Procs{dir: dir} }

// Start runs name's argv with env added to the harness's environment.
func (p *Procs) Start(name string, env []string, dir string, argv ...string) (*Proc, error) {
	logPath := filepath.Join(p.dir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = f, f
	// Its own process group, so Stop reaches its children too; Pdeathsig so
	// that a harness killed with SIGKILL still takes its servers with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	pr := &Proc{Name: name, Log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() { pr.err = cmd.Wait(); close(pr.done) }()
	p.procs = append(p.procs, pr)
	return pr, nil
}

// Exited reports whether the process has ended, and how.
func (pr *Proc) Exited() (bool, error) {
	select {
	case <-pr.done:
		return true, pr.err
	default:
		return false, nil
	}
}

// Pid is the process's ID, which is also its process group's.
func (pr *Proc) Pid() int { return pr.cmd.Process.Pid }

// Stop ends one process: SIGTERM to its group, SIGKILL after grace.
func (pr *Proc) Stop(grace time.Duration) error {
	pgid := pr.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-pr.done:
	case <-time.After(grace):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-pr.done
	}
	// The leader may exit before its children; the group gets SIGKILL
	// either way (ESRCH when it is already empty).
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop %s (process group %d): %w", pr.Name, pgid, err)
	}
	return nil
}

// StopAll stops every process started, the last started first (istiod
// before its API server, API servers before etcd), and returns the first
// error. Safe to call more than once.
func (p *Procs) StopAll(grace time.Duration) error {
	p.mu.Lock()
	procs := p.procs
	p.procs = nil
	p.mu.Unlock()
	var first error
	for i := len(procs) - 1; i >= 0; i-- {
		if err := procs[i].Stop(grace); err != nil && first == nil {
			first = err
		}
	}
	return first
}
