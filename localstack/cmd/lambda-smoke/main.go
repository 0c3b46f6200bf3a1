//go:build unix

// Command lambda-smoke checks the real bootstrap binaries: it builds every
// function of the route table for this machine (the same flags as the Lambda
// build, native GOOS/GOARCH), then starts each one under the Lambda Runtime
// Interface Emulator (aws-lambda-rie, both addresses on 127.0.0.1, one
// process per function, one invoke at a time), sends it its sample event from
// events/, and checks that the answer is a well-formed response of its kind
// with a status below 500. It reports each function's binary size and cold
// start (process start to first response), then a summary.
//
// Usage:
//
//	go run ./localstack/cmd/lambda-smoke [-run REGEXP] [-cold N] [-v]
//
// With -cold N each function starts N times (a new process each) and its
// line shows the median of those cold starts; the summary's p50 and
// slowest three are then over those medians.
//
// DynamoDB: DESKLINE_TEST_DYNAMODB_ENDPOINT when set (make test's
// withservices sets it), otherwise a DynamoDB Local started here (package
// ddblocal). The functions get DESKLINE_STAGE=test, DESKLINE_TABLE (a fresh
// table), DESKLINE_JWT_SECRET, AWS_ENDPOINT_URL_DYNAMODB, DESKLINE_BUCKET
// with AWS_ENDPOINT_URL_S3 (a stand-in on 127.0.0.1 whose bucket is empty)
// and dummy AWS credentials and region. aws-lambda-rie is taken from PATH or GOPATH/bin,
// and installed with `go install` when missing.
//
// Events: events/http/<name>.json for HTTP routes,
// events/authorizer/request.json for the authorizer, and for the other
// kinds events/<kind>/<name>.json or else one of its kind (events/ws/
// connect.json, disconnect.json, default-*.json; events/stream/*.json;
// events/s3/*.json). A function without a sample event is reported as
// skipped (events/events_test.go demands one per HTTP route).
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/deskline/deskline/localstack/ddblocal"
	"github.com/deskline/deskline/shared/app"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/httpapi"
	"github.com/deskline/deskline/shared/routes"
)

const (
	riePackage = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"
	rieVersion = "v0.0.0-20261030222936-bef5c4ba774d"
	invokePath = "/2015-03-31/functions/function/invocations"

	envDynamoDBEndpoint = "DESKLINE_TEST_DYNAMODB_ENDPOINT"
	kindHTTP            = "http"

	startTimeout  = 10 * time.Second // RIE listening
	invokeTimeout = 30 * time.Second // cold start and first response
)

// function is one function to smoke-test.
type function struct {
	name, kind string
	event      string // path, "" when there is none
}

// result is what one invoke showed.
type result struct {
	function
	size    int64
	cold    time.Duration
	status  string // "200", "isAuthorized=false", ...
	err     error
	skipped bool
	logs    string
}

func main() {
	os.Exit(run())
}

func run() int {
	only := flag.String("run", "", "only functions whose name matches this regular expression")
	verbose := flag.Bool("v", false, "print every function's log output")
	out := flag.String("out", filepath.Join("build", "smoke"), "where the native binaries go")
	colds := flag.Int("cold", 1, "cold starts per function (a new process each); with more than one, each function's p50 is reported")
	flag.Parse()
	logf := func(format string, a ...any) { fmt.Fprintf(os.Stderr, "lambda-smoke: "+format+"\n", a...) }

	fns, err := functions(*only)
	if err != nil {
		logf("%v", err)
		return 2
	}
	if len(fns) == 0 {
		logf("no functions match %q", *only)
		return 2
	}
	if *colds < 1 {
		logf("-cold must be at least 1")
		return 2
	}

	begin := time.Now()
	if err := build(*out, fns); err != nil {
		logf("build: %v", err)
		return 1
	}
	logf("built %d functions for %s/%s in %s", len(fns), runtime.GOOS, runtime.GOARCH, time.Since(begin).Round(time.Millisecond))

	rie, err := findRIE(logf)
	if err != nil {
		logf("%v", err)
		return 1
	}

	ctx := context.Background()
	endpoint := os.Getenv(envDynamoDBEndpoint)
	if endpoint == "" {
		dir, err := ddblocal.Ensure(ctx, ddblocal.DefaultCacheDir(), logf)
		if err != nil {
			logf("%v", err)
			return 1
		}
		srv, err := ddblocal.Start(ctx, ddblocal.Options{Dir: dir})
		if err != nil {
			logf("%v", err)
			return 1
		}
		defer srv.Stop()
		endpoint = srv.Endpoint()
		logf("DynamoDB Local on %s", endpoint)
	}
	table := fmt.Sprintf("deskline-smoke-%d-%d", os.Getpid(), time.Now().UnixNano())
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = dynamo.EnsureTable(tctx, dynamo.LocalClient(endpoint), table)
	cancel()
	if err != nil {
		logf("%v", err)
		return 1
	}

	s3URL, stopS3 := noObjectsS3()
	defer stopS3()
	env := functionEnv(endpoint, table, s3URL)
	var results []result
	failed := 0
	for _, f := range fns {
		r := invokeColds(rie, filepath.Join(*out, f.name), f, env, *colds)
		results = append(results, r)
		switch {
		case r.skipped:
			fmt.Printf("SKIP %-28s %6.1f MB  no sample event (%s)\n", f.name, mb(r.size), r.err)
		case r.err != nil:
			failed++
			fmt.Printf("FAIL %-28s %6.1f MB  cold %6s  %v\n", f.name, mb(r.size), ms(r.cold), r.err)
			fmt.Print(indent(lastLines(r.logs, 30)))
		default:
			fmt.Printf("ok   %-28s %6.1f MB  cold %6s  %s\n", f.name, mb(r.size), ms(r.cold), r.status)
		}
		if *verbose && r.logs != "" {
			fmt.Print(indent(r.logs))
		}
	}
	summary(results)
	passed, skipped := 0, 0
	for _, r := range results {
		if r.skipped {
			skipped++
		} else if r.err == nil {
			passed++
		}
	}
	// The plain closing line that CI reads.
	fmt.Printf("lambda-smoke: %d passed, %d failed, %d skipped\n", passed, failed, skipped)
	if failed > 0 {
		return 1
	}
	return 0
}

// functions lists the route table's functions that have a main under
// functions/, with their sample events.
func functions(only string) ([]function, error) {
	re, err := regexp.Compile(only)
	if err != nil {
		return nil, err
	}
	var fns []function
	add := func(name, kind string, events ...string) {
		if !re.MatchString(name) {
			return
		}
		if _, err := os.Stat(filepath.Join("functions", name, "main.go")); err != nil {
			return
		}
		f := function{name: name, kind: kind}
		for _, ev := range events {
			if fileExists(ev) {
				f.event = ev
				break
			}
		}
		fns = append(fns, f)
	}
	for _, r := range routes.HTTP {
		add(r.Name, kindHTTP, filepath.Join("events", "http", r.Name+".json"))
	}
	for _, f := range routes.Functions {
		add(f.Name, f.Kind, eventsFor(f)...)
	}
	return fns, nil
}

// eventsFor lists the sample events that fit a function that is not an HTTP
// route, best first: its own file, then one of its kind.
func eventsFor(f routes.Function) []string {
	own := []string{filepath.Join("events", f.Kind, f.Name+".json")}
	switch f.Kind {
	case routes.KindAuthorizer:
		return []string{filepath.Join("events", "authorizer", "request.json")}
	case routes.KindWebSocket:
		// events/ws/connect.json, disconnect.json, default-*.json
		key := strings.TrimPrefix(f.RouteKey, "$")
		return append(append(own, filepath.Join("events", "ws", f.Name+".json"), filepath.Join("events", "ws", key+".json")),
			glob(filepath.Join("events", "ws", key+"-*.json"))...)
	case routes.KindStream:
		// Any DynamoDB stream batch fits any consumer: it skips item
		// types it does not handle.
		short := strings.TrimPrefix(f.Name, "stream-")
		return append(append(own, filepath.Join("events", "stream", short+"-batch.json")), glob(filepath.Join("events", "stream", "*.json"))...)
	case routes.KindS3:
		return append(own, glob(filepath.Join("events", "s3", "*.json"))...)
	}
	return own
}

func glob(pattern string) []string {
	m, _ := filepath.Glob(pattern)
	sort.Strings(m)
	return m
}

// build compiles every function for this machine in one go build, which
// shares the compiled packages and links in parallel.
func build(out string, fns []function) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	args := []string{"build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", out + string(filepath.Separator)}
	for _, f := range fns {
		args = append(args, "./functions/"+f.name)
	}
	cmd := exec.Command(goTool(), args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

// goTool is the go command: $GO when set (as make sets it), else go.
func goTool() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}

// findRIE returns aws-lambda-rie's path, installing it when missing.
func findRIE(logf func(string, ...any)) (string, error) {
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p, nil
	}
	gobin, err := exec.Command(goTool(), "env", "GOBIN").Output()
	if err != nil {
		return "", err
	}
	dir := strings.TrimSpace(string(gobin))
	if dir == "" {
		gopath, err := exec.Command(goTool(), "env", "GOPATH").Output()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(strings.Split(strings.TrimSpace(string(gopath)), string(os.PathListSeparator))[0], "bin")
	}
	p := filepath.Join(dir, "aws-lambda-rie")
	if fileExists(p) {
		return p, nil
	}
	logf("installing aws-lambda-rie %s (once)", rieVersion)
	cmd := exec.Command(goTool(), "install", riePackage+"@"+rieVersion)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go install aws-lambda-rie: %w", err)
	}
	return p, nil
}

const smokeBucket = "deskline-smoke"

// noObjectsS3 serves an S3 endpoint on 127.0.0.1 whose bucket is empty:
// every request gets S3's NoSuchKey. It lets the functions that need a
// bucket start, and the S3 consumer see an upload that is already gone.
func noObjectsS3() (string, func()) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "http://127.0.0.1:1", func() {}
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusNotFound)
		if r.Method != http.MethodHead {
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Resource>%s</Resource></Error>`, r.URL.Path)
		}
	})}
	go func() { _ = srv.Serve(l) }()
	return "http://" + l.Addr().String(), func() { _ = srv.Close() }
}

// functionEnv is the functions' environment: the caller's, less any AWS
// settings that could reach a real account, plus Deskline's test config.
func functionEnv(endpoint, table, s3URL string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "DESKLINE_") {
			continue
		}
		env = append(env, kv)
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	return append(env,
		app.EnvStage+"=test",
		app.EnvTable+"="+table,
		app.EnvJWTSecret+"="+hex.EncodeToString(secret),
		"AWS_ENDPOINT_URL_DYNAMODB="+endpoint,
		app.EnvBucket+"="+smokeBucket, "AWS_ENDPOINT_URL_S3="+s3URL,
		"AWS_ACCESS_KEY_ID=smoke", "AWS_SECRET_ACCESS_KEY=smoke", "AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
	)
}

// invoke runs one function under the emulator and sends it its event.
func invoke(rie, binary string, f function, env []string) (r result) {
	r.function = f
	if st, err := os.Stat(binary); err == nil {
		r.size = st.Size()
	} else {
		r.err = err
		return r
	}
	if f.event == "" {
		r.skipped = true
		r.err = errors.New("want " + expectedEvent(f))
		return r
	}
	event, err := os.ReadFile(f.event)
	if err != nil {
		r.err = err
		return r
	}
	apiAddr, err := freeAddr()
	if err != nil {
		r.err = err
		return r
	}
	rieAddr, err := freeAddr()
	if err != nil {
		r.err = err
		return r
	}
	var logs bytes.Buffer
	cmd := exec.Command(rie, "--log-level", "error", "--runtime-api-address", apiAddr,
		"--runtime-interface-emulator-address", rieAddr, binary)
	cmd.Env = append(append([]string{}, env...), "AWS_LAMBDA_FUNCTION_NAME="+f.name)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		r.err = err
		return r
	}
	defer func() {
		stop(cmd)
		r.logs = logs.String()
	}()
	if err := waitListening(rieAddr, startTimeout); err != nil {
		r.err = err
		return r
	}
	client := &http.Client{Timeout: invokeTimeout}
	resp, err := client.Post("http://"+rieAddr+invokePath, "application/json", bytes.NewReader(event))
	if err != nil {
		r.err = err
		return r
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	r.cold = time.Since(start)
	if err != nil {
		r.err = err
		return r
	}
	if resp.StatusCode != http.StatusOK {
		r.err = fmt.Errorf("emulator answered %s: %s", resp.Status, truncate(body))
		return r
	}
	r.status, r.err = checkResponse(f.kind, body)
	return r
}

// invokeColds invokes a function n times, each in a new process, and
// returns the first failure or else the last result with its median cold
// start.
func invokeColds(rie, binary string, f function, env []string, n int) result {
	var r result
	var cold []time.Duration
	for i := 0; i < n; i++ {
		r = invoke(rie, binary, f, env)
		if r.skipped || r.err != nil {
			return r
		}
		cold = append(cold, r.cold)
	}
	sort.Slice(cold, func(i, j int) bool { return cold[i] < cold[j] })
	r.cold = cold[len(cold)/2]
	return r
}

func expectedEvent(f function) string {
	switch f.kind {
	case kindHTTP:
		return "events/http/" + f.name + ".json"
	case routes.KindAuthorizer:
		return "events/authorizer/request.json"
	}
	return "events/" + f.kind + "/" + f.name + ".json"
}

// checkResponse checks that body is a well-formed answer of the function's
// kind and says what it was.
func checkResponse(kind string, body []byte) (string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return "", fmt.Errorf("response is not a JSON object: %s", truncate(body))
	}
	if _, ok := raw["errorType"]; ok {
		return "", fmt.Errorf("function failed: %s", truncate(body))
	}
	switch kind {
	case kindHTTP, routes.KindWebSocket:
		var resp struct {
			StatusCode int               `json:"statusCode"`
			Headers    map[string]string `json:"headers"`
			Body       string            `json:"body"`
		}
		if err := json.Unmarshal(body, &resp); err != nil {
			return "", fmt.Errorf("not an HTTP API response: %v: %s", err, truncate(body))
		}
		if resp.StatusCode < 100 || resp.StatusCode > 599 {
			return "", fmt.Errorf("no valid statusCode: %s", truncate(body))
		}
		ct := ""
		for k, v := range resp.Headers {
			if strings.EqualFold(k, "content-type") {
				ct = v
			}
		}
		if kind == kindHTTP && strings.Contains(ct, "json") && resp.Body != "" && !json.Valid([]byte(resp.Body)) {
			return "", fmt.Errorf("content-type %s but the body is not JSON: %.200s", ct, resp.Body)
		}
		status := strconv.Itoa(resp.StatusCode)
		if resp.StatusCode >= 500 {
			return status, fmt.Errorf("status %d: %.300s", resp.StatusCode, resp.Body)
		}
		return status, nil
	case routes.KindAuthorizer:
		var resp struct {
			IsAuthorized *bool          `json:"isAuthorized"`
			Context      map[string]any `json:"context"`
		}
		if err := json.Unmarshal(body, &resp); err != nil || resp.IsAuthorized == nil {
			return "", fmt.Errorf("not a simple authorizer response: %s", truncate(body))
		}
		status := fmt.Sprintf("isAuthorized=%v", *resp.IsAuthorized)
		if e, ok := resp.Context[httpapi.CtxAuthError]; ok {
			status += fmt.Sprintf(" %s=%q", httpapi.CtxAuthError, e)
		}
		return status, nil
	case routes.KindStream:
		var resp struct {
			BatchItemFailures *[]struct {
				ItemIdentifier string `json:"itemIdentifier"`
			} `json:"batchItemFailures"`
		}
		if err := json.Unmarshal(body, &resp); err != nil {
			return "", fmt.Errorf("not a stream response: %s", truncate(body))
		}
		n := 0
		if resp.BatchItemFailures != nil {
			n = len(*resp.BatchItemFailures)
		}
		if n > 0 {
			return "", fmt.Errorf("%d batch item failures: %s", n, truncate(body))
		}
		return "batchItemFailures=0", nil
	}
	return "ok", nil
}

// stop ends the emulator and the function it started (one process group).
func stop(cmd *exec.Cmd) {
	pgid := cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-done
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitListening(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("aws-lambda-rie did not listen on %s within %s", addr, timeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// summary prints the largest and median binary, the cold start p50 and the
// three slowest cold starts.
func summary(results []result) {
	var sizes []int64
	var ran []result
	for _, r := range results {
		if r.size > 0 {
			sizes = append(sizes, r.size)
		}
		if !r.skipped && r.cold > 0 {
			ran = append(ran, r)
		}
	}
	if len(sizes) == 0 {
		return
	}
	sort.Slice(sizes, func(i, j int) bool { return sizes[i] < sizes[j] })
	largest := results[0]
	for _, r := range results {
		if r.size > largest.size {
			largest = r
		}
	}
	fmt.Printf("\nbinaries: %d, largest %s %.1f MB, median %.1f MB\n", len(sizes), largest.name, mb(largest.size), mb(sizes[len(sizes)/2]))
	if len(ran) == 0 {
		return
	}
	sort.Slice(ran, func(i, j int) bool { return ran[i].cold < ran[j].cold })
	fmt.Printf("cold start (process start to first response): p50 %s, max %s over %d functions\n", ms(ran[len(ran)/2].cold), ms(ran[len(ran)-1].cold), len(ran))
	fmt.Print("slowest:")
	for i := len(ran) - 1; i >= 0 && i >= len(ran)-3; i-- {
		fmt.Printf(" %s %s;", ran[i].name, ms(ran[i].cold))
	}
	fmt.Println()
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

func ms(d time.Duration) string { return fmt.Sprintf("%dms", d.Milliseconds()) }

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func indent(s string) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	return "     | " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n     | ") + "\n"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
