package s3local

import "syscall"

// sysProcAttr puts versitygw in its own process group, so Stop can signal
// all of it and a terminal's Ctrl-C reaches only the caller, and has the
// kernel kill it if the thread that started it dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
