package s3local_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/deskline/deskline/localstack/ddblocal"
	"github.com/deskline/deskline/localstack/s3local"
	"github.com/deskline/deskline/shared/objects"
)

// binary returns versitygw, installing it when the services are required
// (make test, CI); otherwise a missing binary skips with a hint.
func binary(t *testing.T) string {
	t.Helper()
	cache := ddblocal.DefaultCacheDir()
	required := os.Getenv("CI") != "" || os.Getenv("DESKLINE_REQUIRE_SERVICES") != ""
	if _, err := os.Stat(filepath.Join(cache, "bin", "versitygw")); err != nil && !required {
		t.Skipf("versitygw is not installed in %s: run `make test` (it installs it)", cache)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin, err := s3local.Ensure(ctx, cache, t.Logf)
	if err != nil {
		t.Fatalf("versitygw is needed: %v", err)
	}
	return bin
}

// hook collects webhook calls.
type hook struct {
	url    string
	events chan map[string]any
}

func newHook(t *testing.T) *hook {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hook{url: "http://" + ln.Addr().String() + "/events", events: make(chan map[string]any, 16)}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		h.events <- m
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return h
}

// next returns the next ObjectCreated record.
func (h *hook) next(t *testing.T) map[string]any {
	t.Helper()
	for {
		select {
		case m := <-h.events:
			recs, _ := m["Records"].([]any)
			if len(recs) == 0 {
				continue // the test event sent at start
			}
			return recs[0].(map[string]any)
		case <-time.After(10 * time.Second):
			t.Fatal("no event within 10 s")
		}
	}
}

func TestServerWithWebhook(t *testing.T) {
	bin := binary(t)
	h := newHook(t)
	ctx := context.Background()
	start := time.Now()
	srv, err := s3local.Start(ctx, s3local.Options{Bin: bin, WebhookURL: h.url})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("versitygw answered in %v at %s", time.Since(start), srv.Endpoint())
	if !strings.HasPrefix(srv.Endpoint(), "http://127.0.0.1:") {
		t.Errorf("endpoint %s is not loopback", srv.Endpoint())
	}
	c := srv.Client()
	if err := objects.EnsureBucket(ctx, c, "bkt"); err != nil {
		t.Fatal(err)
	}
	if err := objects.EnsureBucket(ctx, c, "bkt"); err != nil {
		t.Fatalf("EnsureBucket twice: %v", err)
	}

	// A PUT is reported with its key, and an "s3:" prefix real S3 omits.
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("a/b.txt"), Body: strings.NewReader("hi")}); err != nil {
		t.Fatal(err)
	}
	rec := h.next(t)
	obj := rec["s3"].(map[string]any)["object"].(map[string]any)
	if rec["eventName"] != "s3:ObjectCreated:Put" || obj["key"] != "a/b.txt" {
		t.Errorf("PUT event %v", rec)
	}

	// A presigned POST is reported with an empty key (the local cloud
	// finds the object by size and ETag). If this changes, simplify
	// localstack/cloud/s3.go.
	store := objects.New(c, "bkt")
	up, err := store.PresignUpload(ctx, "files/x", "text/plain", 10)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range up.Fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "x.txt")
	fw.Write([]byte("hello"))
	mw.Close()
	resp, err := http.Post(up.URL, mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST: %d %s", resp.StatusCode, b)
	}
	rec = h.next(t)
	obj = rec["s3"].(map[string]any)["object"].(map[string]any)
	if rec["eventName"] != "s3:ObjectCreated:Post" || obj["key"] != "" || obj["size"] != float64(5) {
		t.Errorf("POST event %v", rec)
	}
	if info, err := store.Head(ctx, "files/x"); err != nil || info.Size != 5 || info.ContentType != "text/plain" {
		t.Errorf("head: %+v, %v", info, err)
	}
	if head, err := store.ReadHead(ctx, "files/x", 3); err != nil || string(head) != "hel" {
		t.Errorf("read head: %q, %v", head, err)
	}
	if err := store.Delete(ctx, "files/x"); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Head(ctx, "files/x"); err != objects.ErrNotFound {
		t.Errorf("head after delete: %v", err)
	}
	if err := store.Delete(ctx, "files/x"); err != nil {
		t.Errorf("delete twice: %v", err)
	}

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if _, err := c.ListBuckets(ctx, &s3.ListBucketsInput{}); err == nil {
		t.Errorf("versitygw still answers after Stop")
	}
}

func TestStartFailsLoudly(t *testing.T) {
	bin := binary(t)
	// The port is taken.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if srv, err := s3local.Start(ctx, s3local.Options{Bin: bin, Port: port}); err == nil {
		srv.Stop()
		t.Fatal("Start on a taken port succeeded")
	}
	// A data directory survives a restart.
	dir := t.TempDir()
	srv, err := s3local.Start(ctx, s3local.Options{Bin: bin, DataDir: dir, AccessKey: "k", SecretKey: "secret-secret"})
	if err != nil {
		t.Fatal(err)
	}
	if err := objects.EnsureBucket(ctx, srv.Client(), "kept"); err != nil {
		t.Fatal(err)
	}
	pid := s3local.PID(srv)
	srv.Stop()
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("process %d still runs after Stop", pid)
	}
	srv, err = s3local.Start(ctx, s3local.Options{Bin: bin, DataDir: dir, AccessKey: "k", SecretKey: "secret-secret"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	out, err := srv.Client().ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(out.Buckets) != 1 || aws.ToString(out.Buckets[0].Name) != "kept" {
		t.Errorf("buckets after restart: %v, %v", out, err)
	}
}
