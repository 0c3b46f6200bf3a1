package ddblocal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/deskline/deskline/localstack/proc"
)

const (
	// Host is the only address DynamoDB Local listens on.
	Host = "127.0.0.1"

	startTimeout = 30 * time.Second
	stopGrace    = 5 * time.Second
	tailLines    = 30
	portAttempts = 3
)

// Options says how to run DynamoDB Local.
type Options struct {
	// Dir is the directory returned by Ensure.
	Dir string
	// Port is the TCP port on 127.0.0.1; 0 picks a free one.
	Port int
	// DataDir keeps the tables in files there (created if missing); ""
	// keeps them in memory (-inMemory).
	DataDir string
	// Log receives the JVM's stdout and stderr; nil drops them (the last
	// lines still appear in Start's errors).
	Log io.Writer
}

// Server is a running DynamoDB Local. Stop it with [Server.Stop].
type Server struct {
	endpoint string
	cmd      *exec.Cmd
	out      *proc.Tail
	done     chan struct{} // closed once the JVM has exited and been reaped
	waitErr  error         // cmd.Wait's result, set before done is closed

	stopOnce sync.Once
	stopErr  error
}

// Start runs DynamoDB Local with -sharedDb on 127.0.0.1 in its own process
// group and returns once it answers a ListTables request, or an error (with
// the JVM's last output lines) if it does not within 30 s. ctx bounds the
// start only: cancelling it later does not stop the server. On Linux the JVM
// is also killed when the process that started it dies.
func Start(ctx context.Context, o Options) (*Server, error) {
	s, err := start(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("start dynamodb local: %w", err)
	}
	return s, nil
}

func start(ctx context.Context, o Options) (*Server, error) {
	if o.Dir == "" {
		return nil, errors.New("no Dir (use the directory from Ensure)")
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	if !installed(dir) {
		return nil, fmt.Errorf("%s has no %s (use the directory from Ensure)", dir, jarName)
	}
	if o.Port < 0 || o.Port > 65535 {
		return nil, fmt.Errorf("bad port %d", o.Port)
	}
	ldir, err := ensureLauncher(ctx, dir, func(string, ...any) {})
	if err != nil {
		return nil, err
	}
	java, err := javaTool("java")
	if err != nil {
		return nil, fmt.Errorf("%w (install a Java 17 runtime, e.g. apt-get install openjdk-17-jdk-headless)", err)
	}
	dataDir := ""
	if o.DataDir != "" {
		if dataDir, err = filepath.Abs(o.DataDir); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dataDir, 0o755); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
	}

	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		port := o.Port
		if port == 0 {
			if port, err = proc.FreePort(Host); err != nil {
				return nil, err
			}
		}
		s, err := launch(ctx, java, dir, ldir, dataDir, port, o.Log)
		// A picked port can be taken by someone else before the JVM binds
		// it; then pick another.
		if errors.Is(err, errPortInUse) && o.Port == 0 && attempt < portAttempts {
			continue
		}
		return s, err
	}
}

var errPortInUse = errors.New("port already in use")

// launch starts one JVM on port and waits until it answers.
func launch(ctx context.Context, java, dir, ldir, dataDir string, port int, logw io.Writer) (*Server, error) {
	args := []string{
		"-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss1m",
		"-Djava.library.path=" + filepath.Join(dir, libName),
		"-Ddeskline.host=" + Host,
		"-cp", ldir + string(os.PathListSeparator) + filepath.Join(dir, jarName),
		"Launcher",
		"-sharedDb", "-disableTelemetry", "-port", strconv.Itoa(port),
	}
	if dataDir == "" {
		args = append(args, "-inMemory")
	} else {
		args = append(args, "-dbPath", dataDir)
	}
	cmd := exec.Command(java, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DDB_LOCAL_TELEMETRY=0")
	out := proc.NewTail(logw)
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = proc.SysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", java, err)
	}
	s := &Server{
		endpoint: "http://" + net.JoinHostPort(Host, strconv.Itoa(port)),
		cmd:      cmd,
		out:      out,
		done:     make(chan struct{}),
	}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()

	if err := s.waitReady(ctx); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

// waitReady polls ListTables until it succeeds, the JVM exits or ctx ends.
func (s *Server) waitReady(ctx context.Context) error {
	client := dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s.endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		Retryer:      aws.NopRetryer{},
	})
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		reqCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := client.ListTables(reqCtx, &dynamodb.ListTablesInput{})
		cancel()
		if err == nil {
			return nil
		}
		lastErr = err
		select {
		case <-s.done:
			out := s.out.LastLines(tailLines)
			if strings.Contains(out, "Failed to bind") || strings.Contains(out, "Address already in use") {
				return fmt.Errorf("java could not listen on %s (%w); its last output:\n%s", s.endpoint, errPortInUse, out)
			}
			return fmt.Errorf("java exited before %s answered (%v); its last output:\n%s", s.endpoint, s.waitErr, out)
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.Canceled) {
				return fmt.Errorf("%s: %w", s.endpoint, ctx.Err())
			}
			return fmt.Errorf("%s did not answer ListTables in time: %w (last error: %v); java's last output:\n%s",
				s.endpoint, ctx.Err(), lastErr, s.out.LastLines(tailLines))
		case <-tick.C:
		}
	}
}

// Endpoint returns the server's URL, like "http://127.0.0.1:8000".
func (s *Server) Endpoint() string { return s.endpoint }

// Stop sends SIGTERM to DynamoDB Local's process group, waits up to 5 s,
// then sends SIGKILL, and waits for the JVM to be gone. Calling it again
// returns the first call's result.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		if err := proc.StopGroup(s.cmd.Process.Pid, s.done, stopGrace); err != nil {
			s.stopErr = fmt.Errorf("stop dynamodb local: %w", err)
		}
	})
	return s.stopErr
}
