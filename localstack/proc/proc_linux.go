package proc

import "syscall"

// SysProcAttr puts a child in its own process group, so [StopGroup] can
// signal all of it and a terminal's Ctrl-C reaches only the caller, and has
// the kernel kill it if the thread that started it dies (Go keeps that
// thread alive unless it exits a goroutine locked to it with
// runtime.LockOSThread).
func SysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
