package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// Target is a pipeline under test in its own process, pinned to one core with taskset so
// that both sides get the same CPU, and measured from /proc.
type Target struct {
	Name       string
	MetricsURL string // its Prometheus exposition
	GRPCAddr   string
	LogPath    string
	cmd        *exec.Cmd
	pid        int
	exited     chan struct{}
}

// StartTarget runs bin with args under `taskset -c core` (no pinning when core < 0),
// logging to logPath, and waits until readyURL answers 200.
func StartTarget(ctx context.Context, name string, core int, logPath, readyURL string, bin string, args ...string) (*Target, error) {
	t := &Target{Name: name, LogPath: logPath}
	cmd, cmdArgs := bin, args
	if core >= 0 {
		ts, err := exec.LookPath("taskset")
		if err != nil {
			return nil, fmt.Errorf("pinning %s to core %d: %w", name, core, err)
		}
		// taskset execs bin: the pid is bin's.
		cmd, cmdArgs = ts, append([]string{"-c", strconv.Itoa(core), bin}, args...)
	}
	if err := t.start(cmd, cmdArgs); err != nil {
		return nil, err
	}
	if err := waitReady(ctx, readyURL, t.exited); err != nil {
		t.Stop()
		return nil, fmt.Errorf("%s did not get ready: %w\n%s", name, err, t.LogTail())
	}
	return t, nil
}

// start runs the process in its own group, killed by the kernel if the generator dies
// (internal/testenv.Process does the same for tests, but does not tell its pid).
func (t *Target) start(bin string, args []string) error {
	logf, err := os.Create(t.LogPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	t.cmd = exec.Command(bin, args...)
	t.cmd.Stdout, t.cmd.Stderr = logf, logf
	t.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := t.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", t.Name, err)
	}
	t.pid, t.exited = t.cmd.Process.Pid, make(chan struct{})
	go func() { _ = t.cmd.Wait(); close(t.exited) }()
	return nil
}

// Stop ends the process group: SIGTERM, then SIGKILL after 10 s. Safe to call twice.
func (t *Target) Stop() {
	if t.cmd == nil {
		return
	}
	_ = syscall.Kill(-t.pid, syscall.SIGTERM)
	select {
	case <-t.exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-t.pid, syscall.SIGKILL)
		<-t.exited
	}
	t.cmd = nil
}

// LogTail is the end of the process's log, for an error message.
func (t *Target) LogTail() string {
	b, err := os.ReadFile(t.LogPath)
	if err != nil {
		return err.Error()
	}
	return string(b[max(0, len(b)-4000):])
}

func waitReady(ctx context.Context, url string, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return errors.New("the process exited")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// CPU is the process's user plus system CPU time so far.
func (t *Target) CPU() (time.Duration, error) { return procCPU(t.pid) }

// PeakRSS is the process's peak resident set (VmHWM); RSS the current one (VmRSS).
func (t *Target) PeakRSS() (int64, error) { return procStatusBytes(t.pid, "VmHWM:") }
func (t *Target) RSS() (int64, error)     { return procStatusBytes(t.pid, "VmRSS:") }

// RunDelay is how long the process's threads have waited, runnable, for a CPU
// (/proc/PID/task/*/schedstat, the second field): on a shared machine, what the
// neighbours on its core took from it. Threads that have exited are not counted.
func (t *Target) RunDelay() (time.Duration, error) {
	tasks, err := filepath.Glob("/proc/" + strconv.Itoa(t.pid) + "/task/*/schedstat")
	if err != nil || len(tasks) == 0 {
		return 0, fmt.Errorf("no schedstat for pid %d: %v", t.pid, err)
	}
	var sum time.Duration
	for _, p := range tasks {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // the thread exited
		}
		if f := strings.Fields(string(b)); len(f) >= 2 {
			ns, err := strconv.ParseInt(f[1], 10, 64)
			if err == nil {
				sum += time.Duration(ns)
			}
		}
	}
	return sum, nil
}

func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: count fields after its closing paren.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 { // f[0] is field 3 (state); utime and stime are fields 14 and 15
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

func procStatusBytes(pid int, key string) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, key); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, key)
}
