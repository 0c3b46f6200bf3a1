//go:build unix && !linux

package s3local

import "syscall"

// sysProcAttr puts versitygw in its own process group, so Stop can signal
// all of it. Only Linux can also have the kernel kill it with its parent.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
