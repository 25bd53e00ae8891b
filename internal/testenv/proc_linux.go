package testenv

import "syscall"

func init() {
	// Kill the tool if the test binary dies without running its cleanups (go test -timeout).
	setPdeathsig = func(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
}
