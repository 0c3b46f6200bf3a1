package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRunPassesEnvAndExitCode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts DynamoDB Local (and may fetch it with npm); skipped in -short mode")
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"--", "sh", "-c", `echo "$` + envDynamoDBEndpoint + ` $` + envRequireServices + `"; exit 7`},
		strings.NewReader(""), &stdout, &stderr)
	t.Logf("stderr:\n%s", stderr.String())
	if code != 7 {
		t.Fatalf("exit code %d, want 7", code)
	}
	m := regexp.MustCompile(`^http://(127\.0\.0\.1:\d+) 1\n$`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("command printed %q, want the endpoint and 1", stdout.String())
	}
	if !regexp.MustCompile(`(?m)^withservices: DynamoDB Local on http://127\.0\.0\.1:\d+ \(started in \d+\.\ds\)$`).MatchString(stderr.String()) {
		t.Errorf("stderr lacks the start-up line:\n%s", stderr.String())
	}
	if c, err := net.DialTimeout("tcp", m[1], time.Second); err == nil {
		c.Close()
		t.Errorf("DynamoDB Local still listens on %s after the command ended", m[1])
	}
}

func TestRunUsage(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(nil, nil, &stderr, &stderr); code != 2 {
		t.Fatalf("exit code %d with no command, want 2", code)
	}
	if !strings.Contains(stderr.String(), "usage:") {
		t.Errorf("no usage message: %q", stderr.String())
	}
}

func TestRunCommandForwardsSignals(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	sigs := make(chan os.Signal, 1)
	sigs <- syscall.SIGTERM // delivered as soon as the command has started
	got := make(chan int, 1)
	go func() { got <- runCommand(cmd, sigs, t.Logf) }()
	select {
	case code := <-got:
		if code != 128+int(syscall.SIGTERM) {
			t.Fatalf("exit code %d, want %d", code, 128+int(syscall.SIGTERM))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the command did not end after SIGTERM")
	}
}

func TestRunCommandExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"true"}, 0},
		{[]string{"sh", "-c", "exit 3"}, 3},
		{[]string{"sh", "-c", "kill -KILL $$"}, 128 + 9},
		{[]string{"/nonexistent/command"}, exitSetup},
	} {
		cmd := exec.Command(tc.args[0], tc.args[1:]...)
		if got := runCommand(cmd, make(chan os.Signal), t.Logf); got != tc.want {
			t.Errorf("%v: exit code %d, want %d", tc.args, got, tc.want)
		}
	}
}
