package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Process is a real tool (Loki, Jaeger, ...) that a test runs in its own process group,
// its output appended to a log file, stopped with SIGTERM and then SIGKILL, and killed by
// the kernel if the test binary dies without running its cleanups (Linux).
type Process struct {
	Name    string // for messages: "loki", "jaeger"
	LogPath string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// setPdeathsig asks the kernel to kill the child when the test binary dies (Linux only).
var setPdeathsig = func(*syscall.SysProcAttr) {}

// Start starts bin with args in dir, appending a header line and then the process's output
// to LogPath. It returns a channel closed when the process exits.
func (p *Process) Start(dir, bin string, args ...string) (<-chan struct{}, error) {
	logf, err := os.OpenFile(p.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "--- %s: starting %s %v\n", time.Now().Format(time.RFC3339Nano), p.Name, args)
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setPdeathsig(cmd.SysProcAttr)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	return done, nil
}

// Stop sends the process group SIGTERM, and SIGKILL if it has not exited after timeout.
// It is safe to call when not running.
func (p *Process) Stop(timeout time.Duration) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd, p.done = nil, nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	pgid := cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(timeout):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-done
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL) // whatever it left behind in its group
}

// Running reports whether the process is up (started and not stopped or crashed).
func (p *Process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// LogTail returns the last 4000 bytes of the log, for an error message.
func (p *Process) LogTail() string {
	b, err := os.ReadFile(p.LogPath)
	if err != nil {
		return err.Error()
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// DumpLog writes the whole log to the test's output.
func (p *Process) DumpLog(t testing.TB) {
	b, err := os.ReadFile(p.LogPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Logf("%s log: %v", p.Name, err)
		return
	}
	t.Logf("%s log (%s):\n%s", p.Name, p.LogPath, b)
}
