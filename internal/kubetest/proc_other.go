//go:build !linux

package kubetest

import "os/exec"

// dieWithParent does nothing where there is no parent-death signal: a test binary that dies
// without its cleanups leaves its etcd and kube-apiserver running.
func dieWithParent(*exec.Cmd) {}
