//go:build unix && !linux

package proc

import "syscall"

// SysProcAttr puts a child in its own process group, so [StopGroup] can
// signal all of it and a terminal's Ctrl-C reaches only the caller. Only
// Linux can also have the kernel kill it when its parent dies.
func SysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
