package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// A measured process is started by a small helper process (bench itself,
// with -spawn), not by bench. On Linux a process started with vfork
// (os/exec) takes on its parent's peak RSS as its own at exec: started by
// bench, which holds the inputs it generated, a meshc that refused its
// input at once reported 120 MB. The helper is a fresh process of a few
// megabytes, and reports the child's wall time and rusage on its stdout.

// spawned is what the helper reports of one run.
type spawned struct {
	Wall   time.Duration
	CPU    time.Duration
	MaxRSS int64 // bytes
	Exit   int
}

// spawnMain is bench -spawn CMD ARGS...: it runs the command with bench's
// stdin and stderr, its stdout discarded, and prints a spawned as JSON.
func spawnMain(args []string) error {
	if len(args) == 0 {
		return errors.New("-spawn: no command")
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stderr = os.Stdin, os.Stderr
	start := time.Now()
	err := cmd.Run()
	s := spawned{Wall: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		s.Exit = ee.ExitCode()
	case err != nil:
		return err
	}
	ps := cmd.ProcessState
	s.CPU = ps.UserTime() + ps.SystemTime()
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		s.MaxRSS = int64(ru.Maxrss)
		if runtime.GOOS != "darwin" {
			s.MaxRSS *= 1024 // Linux reports KiB, macOS bytes
		}
	}
	return json.NewEncoder(os.Stdout).Encode(s)
}

// spawn runs name with args through the helper, stdin from the file in
// when it is not "", and returns what the helper reports and the
// command's stderr.
func spawn(in, name string, args ...string) (spawned, []byte, error) {
	self, err := os.Executable()
	if err != nil {
		return spawned{}, nil, err
	}
	cmd := exec.Command(self, append([]string{"-spawn", name}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if in != "" {
		f, err := os.Open(in)
		if err != nil {
			return spawned{}, nil, err
		}
		defer f.Close()
		cmd.Stdin = f
	}
	var s spawned
	if err := cmd.Run(); err != nil {
		return s, stderr.Bytes(), fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.Bytes())
	}
	if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
		return s, stderr.Bytes(), fmt.Errorf("%s %s: the helper said %q: %w", filepath.Base(name), strings.Join(args, " "), stdout.Bytes(), err)
	}
	return s, stderr.Bytes(), nil
}
