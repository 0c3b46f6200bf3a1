// Package s3local installs, starts and stops versitygw, a real S3 gateway
// (Apache-2.0) that checks SigV4 signatures, presigned URL expiry and POST
// policies, serving a directory of the local disk on 127.0.0.1.
//
// [Ensure] installs the pinned version with `go install` into
// <cacheDir>/bin once (about two minutes: it compiles versitygw); [Start]
// runs it with an event webhook, so ObjectCreated notifications reach the
// local cloud. Its notifications differ from real S3's in two ways the local
// cloud makes up for: event names carry an "s3:" prefix, and POST uploads
// are reported with an empty object key.
package s3local

import (
	"context"
	"crypto/rand"
	"debug/buildinfo"
	"encoding/hex"
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
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/deskline/deskline/localstack/proc"
	"github.com/deskline/deskline/shared/objects"
)

const (
	// Version is the versitygw version Ensure installs.
	Version = "v1.8.0"
	// Module is the package Ensure installs.
	Module = "github.com/versity/versitygw/cmd/versitygw"
	// Host is the only address versitygw listens on.
	Host = "127.0.0.1"
	// Region is the region the gateway serves and signatures must name.
	Region = "us-east-1"

	binName      = "versitygw"
	tmpPrefix    = ".versitygw-tmp-"
	startTimeout = 30 * time.Second
	stopGrace    = 5 * time.Second
	portAttempts = 3
)

// Ensure makes sure versitygw [Version] is installed as <cacheDir>/bin/versitygw
// and returns its path. When it is missing (or another version), it runs
// `go install` for it with GOBIN set to a temporary directory of the cache and
// moves the binary into place; concurrent calls, from one process or
// several, take a lock file. logf, which may be nil, hears about the slow
// step.
func Ensure(ctx context.Context, cacheDir string, logf func(string, ...any)) (string, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if cacheDir == "" {
		return "", errors.New("ensure versitygw: empty cache dir")
	}
	cacheDir, err := filepath.Abs(cacheDir)
	if err != nil {
		return "", fmt.Errorf("ensure versitygw: %w", err)
	}
	bin := filepath.Join(cacheDir, "bin", binName)
	if installed(bin) {
		return bin, nil
	}
	if err := install(ctx, cacheDir, bin, logf); err != nil {
		return "", fmt.Errorf("ensure versitygw: %w", err)
	}
	return bin, nil
}

// installed reports whether bin is versitygw at Version, by the module
// version Go recorded in the binary.
func installed(bin string) bool {
	info, err := buildinfo.ReadFile(bin)
	return err == nil && info.Main.Path == "github.com/versity/versitygw" && info.Main.Version == Version
}

func install(ctx context.Context, cacheDir, bin string, logf func(string, ...any)) error {
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(bin), err)
	}
	unlock, err := proc.Lock(ctx, filepath.Join(cacheDir, ".versitygw-"+Version+".lock"), "versitygw", logf)
	if err != nil {
		return err
	}
	defer unlock()
	if installed(bin) { // another process finished while we waited
		return nil
	}
	if old, _ := filepath.Glob(filepath.Join(cacheDir, tmpPrefix+"*")); len(old) > 0 {
		for _, p := range old {
			_ = os.RemoveAll(p)
		}
	}
	tmp, err := os.MkdirTemp(cacheDir, tmpPrefix)
	if err != nil {
		return fmt.Errorf("create temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	gobin, err := goTool()
	if err != nil {
		return err
	}
	logf("installing versitygw %s with go install (compiles it: about two minutes, once)", Version)
	cmd := exec.CommandContext(ctx, gobin, "install", Module+"@"+Version)
	cmd.Dir = tmp // outside any module, so the install ignores this repository's go.mod
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOWORK=off", "GOFLAGS=", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go install %s@%s: %w\n%s", Module, Version, err, strings.TrimSpace(string(out)))
	}
	built := filepath.Join(tmp, binName)
	if !installed(built) {
		return fmt.Errorf("go install %s@%s made no %s binary of that version", Module, Version, binName)
	}
	if err := os.Rename(built, bin); err != nil {
		return fmt.Errorf("move versitygw into place: %w", err)
	}
	return nil
}

// goTool finds the go command on PATH.
func goTool() (string, error) {
	p, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is not on PATH (it installs versitygw): %w", err)
	}
	return p, nil
}

// Options say how to run versitygw.
type Options struct {
	// Bin is the binary Ensure returned.
	Bin string
	// Port is the TCP port on 127.0.0.1; 0 picks a free one.
	Port int
	// DataDir holds the buckets (created if missing); "" uses a temporary
	// directory removed by Stop.
	DataDir string
	// AccessKey and SecretKey are the root user's credentials; empty picks
	// "deskline-local" and a random secret.
	AccessKey, SecretKey string
	// WebhookURL receives ObjectCreated and other notifications; it must
	// answer when versitygw starts (it sends a test event).
	WebhookURL string
	// Log receives versitygw's output; nil drops it (the last lines still
	// appear in Start's errors).
	Log io.Writer
}

// Server is a running versitygw. Stop it with [Server.Stop].
type Server struct {
	endpoint  string
	accessKey string
	secretKey string
	cmd       *exec.Cmd
	out       *proc.Tail
	done      chan struct{}
	waitErr   error
	tmpDir    string

	stopOnce sync.Once
	stopErr  error
}

// Start runs versitygw's posix backend on 127.0.0.1 in its own process group
// and returns once it answers a signed ListBuckets, or an error with its
// last output lines. On Linux it also dies with the process that started
// it.
func Start(ctx context.Context, o Options) (*Server, error) {
	s, err := start(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("start versitygw: %w", err)
	}
	return s, nil
}

func start(ctx context.Context, o Options) (*Server, error) {
	if o.Bin == "" {
		return nil, errors.New("no Bin (use the path from Ensure)")
	}
	if o.AccessKey == "" {
		o.AccessKey = "deskline-local"
	}
	if o.SecretKey == "" {
		o.SecretKey = randomSecret()
	}
	var tmpDir string
	dataDir := o.DataDir
	if dataDir == "" {
		d, err := os.MkdirTemp("", "deskline-s3-")
		if err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
		tmpDir, dataDir = d, d
	} else {
		abs, err := filepath.Abs(dataDir)
		if err != nil {
			return nil, err
		}
		dataDir = abs
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		port := o.Port
		if port == 0 {
			var err error
			if port, err = proc.FreePort(Host); err != nil {
				return nil, err
			}
		}
		s, err := launch(ctx, o, dataDir, port)
		if errors.Is(err, errPortInUse) && o.Port == 0 && attempt < portAttempts {
			continue
		}
		if err != nil {
			if tmpDir != "" {
				_ = os.RemoveAll(tmpDir)
			}
			return nil, err
		}
		s.tmpDir = tmpDir
		return s, nil
	}
}

var errPortInUse = errors.New("port already in use")

func launch(ctx context.Context, o Options, dataDir string, port int) (*Server, error) {
	addr := net.JoinHostPort(Host, strconv.Itoa(port))
	args := []string{"--port", addr, "--region", Region, "--quiet"}
	if o.WebhookURL != "" {
		args = append(args, "--event-webhook-url", o.WebhookURL)
	}
	args = append(args, "posix", dataDir)
	cmd := exec.Command(o.Bin, args...)
	// The root credentials go in through the environment (versitygw's
	// --access and --secret read these variables), which keeps the secret
	// out of the process list.
	cmd.Env = append(os.Environ(),
		"ROOT_ACCESS_KEY_ID="+o.AccessKey, "ROOT_ACCESS_KEY="+o.AccessKey,
		"ROOT_SECRET_ACCESS_KEY="+o.SecretKey, "ROOT_SECRET_KEY="+o.SecretKey)
	out := proc.NewTail(o.Log)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = proc.SysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", o.Bin, err)
	}
	s := &Server{endpoint: "http://" + addr, accessKey: o.AccessKey, secretKey: o.SecretKey, cmd: cmd, out: out, done: make(chan struct{})}
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

// waitReady polls a signed ListBuckets until it succeeds, versitygw exits or
// ctx ends.
func (s *Server) waitReady(ctx context.Context) error {
	client := s.Client()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		reqCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := client.ListBuckets(reqCtx, &s3.ListBucketsInput{}, func(o *s3.Options) { o.Retryer = aws.NopRetryer{} })
		cancel()
		if err == nil {
			return nil
		}
		lastErr = err
		select {
		case <-s.done:
			out := s.out.LastLines(30)
			if strings.Contains(out, "address already in use") {
				return fmt.Errorf("versitygw could not listen on %s (%w); its last output:\n%s", s.endpoint, errPortInUse, out)
			}
			return fmt.Errorf("versitygw exited before %s answered (%v); its last output:\n%s", s.endpoint, s.waitErr, out)
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer ListBuckets in time: %w (last error: %v); its last output:\n%s",
				s.endpoint, ctx.Err(), lastErr, s.out.LastLines(30))
		case <-tick.C:
		}
	}
}

// Endpoint returns the gateway's URL, like "http://127.0.0.1:7070".
func (s *Server) Endpoint() string { return s.endpoint }

// Credentials returns the root user's access key and secret.
func (s *Server) Credentials() (accessKey, secretKey string) { return s.accessKey, s.secretKey }

// Client returns an S3 client of the root user (path-style addressing).
func (s *Server) Client() *s3.Client {
	return objects.LocalClient(s.endpoint, Region, s.accessKey, s.secretKey)
}

// Stop sends SIGTERM to versitygw's process group, waits up to 5 s, then
// sends SIGKILL, and removes a temporary data directory. Calling it again
// returns the first call's result.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		if err := proc.StopGroup(s.cmd.Process.Pid, s.done, stopGrace); err != nil {
			s.stopErr = fmt.Errorf("stop versitygw: %w", err)
		}
		if s.tmpDir != "" {
			_ = os.RemoveAll(s.tmpDir)
		}
	})
	return s.stopErr
}

func randomSecret() string {
	var b [20]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	return hex.EncodeToString(b[:])
}
