package kubetest

import (
	"os/exec"
	"syscall"
)

// dieWithParent kills the child when the test binary dies without running its cleanups (a
// panic, a -timeout, a ^C), so that no etcd or kube-apiserver outlives its test.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
