// Package proc holds the process plumbing shared by the local emulator
// launchers (ddblocal, s3local): an install lock, free-port picking, an
// output tail for error messages, and starting and stopping a child in its
// own process group.
package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Lock takes an exclusive flock on path (creating it), waiting while another
// process holds it, and returns the function that releases it. The lock goes
// away with its process, so a killed run leaves none behind. While waiting,
// logf (which must not be nil) hears once "waiting for another process that
// is installing <what> (<path>)". Waiting ends with an error when ctx does.
func Lock(ctx context.Context, path, what string, logf func(string, ...any)) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	for waited := false; ; {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !waited {
			logf("waiting for another process that is installing %s (%s)", what, path)
			waited = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}

// FreePort asks the kernel for a free TCP port on host. The port is free
// only at the moment of asking: someone else may take it before the caller
// binds it.
func FreePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Tail is an io.Writer for a child's stdout and stderr: it passes the output
// on to another writer (if any) and keeps its last 16-32 KiB for error
// messages. It is safe for concurrent use.
type Tail struct {
	w   io.Writer
	mu  sync.Mutex
	buf []byte
}

const tailBytes = 16 << 10

// NewTail returns a Tail that passes output on to w; w may be nil to only
// keep the end.
func NewTail(w io.Writer) *Tail { return &Tail{w: w} }

// Write keeps p and passes it on. It always reports success: a failing
// writer behind it must not stall or kill the child's pipe.
func (t *Tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*tailBytes {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailBytes:]...)
	}
	w := t.w
	t.mu.Unlock()
	if w != nil {
		_, _ = w.Write(p)
	}
	return len(p), nil
}

// LastLines returns up to n final lines of the output kept, or "(no output)"
// if there is none but blanks.
func (t *Tail) LastLines(n int) string {
	t.mu.Lock()
	text := string(bytes.TrimRight(t.buf, "\n"))
	t.mu.Unlock()
	lines := strings.Split(text, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if s := strings.Join(lines, "\n"); strings.TrimSpace(s) != "" {
		return s
	}
	return "(no output)"
}

// StopGroup stops the process group led by pid (a child started with
// [SysProcAttr]): unless done is already closed, it sends SIGTERM to the
// group, waits up to grace for done, then sends SIGKILL and waits up to
// grace again. done must be closed once the child has exited and been
// reaped. A group that is already gone is not an error.
func StopGroup(pid int, done <-chan struct{}, grace time.Duration) error {
	select {
	case <-done:
		return nil
	default:
	}
	pgid := pid // Setpgid makes the child the group's leader
	if err := syscall.Kill(-pgid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("SIGTERM process group %d: %w", pgid, err)
	}
	select {
	case <-done:
		return nil
	case <-time.After(grace):
	}
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("SIGKILL process group %d: %w", pgid, err)
	}
	select {
	case <-done:
		return nil
	case <-time.After(grace):
		return fmt.Errorf("process %d still running after SIGKILL", pgid)
	}
}
