// Command withservices runs a command with local stand-ins for the AWS
// services the tests need, and stops them when the command ends.
//
// Usage:
//
//	go run ./localstack/cmd/withservices [-v] -- <command> [args...]
//
// It fetches DynamoDB Local once (see package ddblocal; the cache is
// $DESKLINE_CACHE_DIR or the user cache dir), starts it in memory on a free
// port of 127.0.0.1, and runs the command with
// DESKLINE_TEST_DYNAMODB_ENDPOINT=http://127.0.0.1:N and
// DESKLINE_REQUIRE_SERVICES=1 added to the environment. The command's output
// streams through; SIGINT, SIGTERM and SIGHUP are passed on to it. When it
// exits, DynamoDB Local is stopped and withservices exits with the command's
// exit code (128+N if a signal N ended it).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/deskline/deskline/localstack/ddblocal"
)

const (
	// envDynamoDBEndpoint names the variable that carries DynamoDB Local's URL.
	envDynamoDBEndpoint = "DESKLINE_TEST_DYNAMODB_ENDPOINT"
	// envRequireServices names the variable that tells tests the services
	// are there, so they fail rather than skip without them.
	envRequireServices = "DESKLINE_REQUIRE_SERVICES"

	// exitSetup is the exit code when the services could not be started or
	// the command could not be run.
	exitSetup = 125
)

var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is the whole program; it returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("withservices", flag.ContinueOnError)
	fs.SetOutput(stderr)
	verbose := fs.Bool("v", false, "show DynamoDB Local's own output")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: withservices [-v] -- <command> [args...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	logf := func(format string, a ...any) {
		fmt.Fprintf(stderr, "withservices: "+format+"\n", a...)
	}

	// Catch signals from the start, so that one arriving while DynamoDB
	// Local starts still stops it.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	setupDone := make(chan struct{})
	setupSig := make(chan os.Signal, 1) // what arrived during start-up, or nil
	go func() {
		select {
		case s := <-sigs:
			cancel()
			setupSig <- s
		case <-setupDone:
			setupSig <- nil
		}
	}()

	var jvmLog io.Writer
	if *verbose {
		jvmLog = stderr
	}
	srv, took, err := startDynamoDB(ctx, logf, jvmLog)
	close(setupDone)
	sig := <-setupSig
	if err != nil {
		logf("%v", err)
		if sig != nil {
			return exitCodeForSignal(sig)
		}
		return exitSetup
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			logf("%v", err)
		}
	}()
	if sig != nil { // it came just as start-up finished
		return exitCodeForSignal(sig)
	}
	logf("DynamoDB Local on %s (started in %.1fs)", srv.Endpoint(), took.Seconds())

	cmd := exec.Command(fs.Arg(0), fs.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.Env = append(os.Environ(),
		envDynamoDBEndpoint+"="+srv.Endpoint(),
		envRequireServices+"=1",
	)
	return runCommand(cmd, sigs, logf)
}

// startDynamoDB installs (if needed) and starts DynamoDB Local in memory on a
// free port, and says how long the start itself took.
func startDynamoDB(ctx context.Context, logf func(string, ...any), jvmLog io.Writer) (*ddblocal.Server, time.Duration, error) {
	dir, err := ddblocal.Ensure(ctx, ddblocal.DefaultCacheDir(), logf)
	if err != nil {
		return nil, 0, err
	}
	begin := time.Now()
	srv, err := ddblocal.Start(ctx, ddblocal.Options{Dir: dir, Log: jvmLog})
	return srv, time.Since(begin), err
}

// runCommand runs cmd, passing on the signals that arrive on sigs, and
// returns its exit code.
func runCommand(cmd *exec.Cmd, sigs <-chan os.Signal, logf func(string, ...any)) int {
	if err := cmd.Start(); err != nil {
		logf("run %s: %v", cmd.Path, err)
		return exitSetup
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	return exitCode(err, logf)
}

// exitCode turns cmd.Wait's result into an exit code, the way a shell does.
func exitCode(err error, logf func(string, ...any)) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		logf("wait: %v", err)
		return exitSetup
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	if c := ee.ExitCode(); c >= 0 {
		return c
	}
	return 1
}

func exitCodeForSignal(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 1
}
