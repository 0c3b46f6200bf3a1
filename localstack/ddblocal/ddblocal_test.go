package ddblocal

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ensure installs DynamoDB Local into the shared cache, downloading it with
// npm on a cold machine.
func ensure(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts DynamoDB Local (and may fetch it with npm); skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir, err := Ensure(ctx, DefaultCacheDir(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func newClient(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}

func createTable(ctx context.Context, t *testing.T, c *dynamodb.Client, name string) {
	t.Helper()
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
}

func portOf(t *testing.T, endpoint string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(strings.TrimPrefix(endpoint, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func dial(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		c.Close()
	}
	return err
}

func TestStartInMemory(t *testing.T) {
	dir := ensure(t)
	ctx := context.Background()

	begin := time.Now()
	s, err := Start(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	t.Logf("DynamoDB Local on %s, answered after %v", s.Endpoint(), time.Since(begin).Round(time.Millisecond))
	if !strings.HasPrefix(s.Endpoint(), "http://127.0.0.1:") {
		t.Fatalf("Endpoint() = %q, want http://127.0.0.1:N", s.Endpoint())
	}
	port := portOf(t, s.Endpoint())

	c := newClient(s.Endpoint())
	createTable(ctx, t, c, "things")
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String("things"),
		Item: map[string]types.AttributeValue{
			"pk":   &types.AttributeValueMemberS{Value: "a"},
			"name": &types.AttributeValueMemberS{Value: "Ada"},
		},
	}); err != nil {
		t.Fatalf("PutItem: %v", err)
	}
	got, err := c.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String("things"),
		Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	if v, ok := got.Item["name"].(*types.AttributeValueMemberS); !ok || v.Value != "Ada" {
		t.Fatalf("GetItem returned %#v, want name=Ada", got.Item)
	}

	// -sharedDb: other credentials and regions see the same tables.
	other := dynamodb.New(dynamodb.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(s.Endpoint()),
		Credentials:  credentials.NewStaticCredentialsProvider("other", "other", ""),
	})
	lt, err := other.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatalf("ListTables: %v", err)
	}
	if len(lt.TableNames) != 1 || lt.TableNames[0] != "things" {
		t.Fatalf("ListTables with other credentials = %v, want [things]", lt.TableNames)
	}

	// Bound to 127.0.0.1 only.
	if err := dial(net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err != nil {
		t.Fatalf("dial 127.0.0.1: %v", err)
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.To4() == nil || ipn.IP.IsLoopback() {
			continue
		}
		addr := net.JoinHostPort(ipn.IP.String(), strconv.Itoa(port))
		if err := dial(addr); err == nil {
			t.Errorf("DynamoDB Local answers on %s; want 127.0.0.1 only", addr)
		} else {
			t.Logf("dial %s: %v (as wanted)", addr, err)
		}
	}
	checkListenAddrs(t, port)

	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if err := dial(net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
		t.Fatalf("port %d still open after Stop", port)
	}
}

// checkListenAddrs reads /proc/net/tcp{,6} and checks that every listening
// socket on port is bound to 127.0.0.1.
func checkListenAddrs(t *testing.T, port int) {
	t.Helper()
	const (
		v4Loopback     = "0100007F"
		mappedLoopback = "0000000000000000FFFF00000100007F"
		listenState    = "0A"
	)
	found := 0
	for _, name := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(name)
		if err != nil {
			t.Logf("skip %s: %v", name, err)
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 4 || fields[3] != listenState {
				continue
			}
			host, hexPort, ok := strings.Cut(fields[1], ":")
			if !ok {
				continue
			}
			if p, err := strconv.ParseUint(hexPort, 16, 16); err != nil || int(p) != port {
				continue
			}
			found++
			if host != v4Loopback && host != mappedLoopback {
				t.Errorf("%s: port %d listens on %s, want 127.0.0.1 only", name, port, host)
			}
		}
		f.Close()
	}
	if found == 0 && fileExists("/proc/net/tcp") {
		t.Errorf("no listening socket on port %d in /proc/net", port)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func TestStartDataDirKeepsTables(t *testing.T) {
	dir := ensure(t)
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "data") // Start creates it

	s, err := Start(ctx, Options{Dir: dir, DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	createTable(ctx, t, newClient(s.Endpoint()), "kept")
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}

	s, err = Start(ctx, Options{Dir: dir, DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	lt, err := newClient(s.Endpoint()).ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(lt.TableNames) != 1 || lt.TableNames[0] != "kept" {
		t.Fatalf("tables after restart = %v, want [kept]", lt.TableNames)
	}
}

func TestStartPortTaken(t *testing.T) {
	dir := ensure(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port

	var log bytes.Buffer
	begin := time.Now()
	s, err := Start(context.Background(), Options{Dir: dir, Port: port, Log: &syncWriter{w: &log}})
	if err == nil {
		s.Stop()
		t.Fatal("Start succeeded on a taken port")
	}
	t.Logf("error after %v: %v", time.Since(begin).Round(time.Millisecond), err)
	if !strings.Contains(err.Error(), "in use") {
		t.Errorf("error %q does not say the port is in use", err)
	}
	if time.Since(begin) > 20*time.Second {
		t.Errorf("took %v to fail; want it to notice the JVM exit", time.Since(begin))
	}
}

func TestStartContextCancelled(t *testing.T) {
	dir := ensure(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	s, err := Start(ctx, Options{Dir: dir})
	if err == nil {
		s.Stop()
		t.Fatal("Start succeeded with a 100ms context")
	}
	t.Logf("error: %v", err)
}

func TestEnsureConcurrentAndOffline(t *testing.T) {
	if testing.Short() {
		t.Skip("unpacks DynamoDB Local (and may fetch it with npm); skipped in -short mode")
	}
	cache := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	const n = 3
	dirs := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dirs[i], errs[i] = Ensure(ctx, cache, func(f string, a ...any) { t.Logf("[%d] "+f, append([]any{i}, a...)...) })
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Ensure %d: %v", i, errs[i])
		}
		if dirs[i] != filepath.Join(cache, "dynamodb-local-"+Version) {
			t.Fatalf("Ensure %d = %q", i, dirs[i])
		}
	}
	for _, p := range []string{"DynamoDBLocal.jar", "DynamoDBLocal_lib/sqlite4java.jar", filepath.Join(filepath.Base(launcherDir(dirs[0])), "Launcher.class")} {
		if !fileExists(filepath.Join(dirs[0], p)) {
			t.Errorf("missing %s", p)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(cache, tmpPrefix+"*")); len(left) > 0 {
		t.Errorf("temp dirs left behind: %v", left)
	}

	// A second call needs neither npm nor javac.
	t.Setenv("PATH", "")
	t.Setenv("JAVA_HOME", "")
	if _, err := Ensure(ctx, cache, t.Logf); err != nil {
		t.Fatalf("Ensure without PATH: %v", err)
	}
}

func TestUnpackKeepsToEmulator(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	files := map[string]string{
		"package/package.json":                         "{}",
		"package/emulator/DynamoDBLocal.jar":           "jar",
		"package/emulator/DynamoDBLocal_lib/x.jar":     "x",
		"package/emulator/../../escaped":               "no",
		"package/emulatorish/file":                     "no",
		"package/emulator/DynamoDBLocal_lib/../ok.txt": "ok",
	}
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: "package/emulator/link", Linkname: "/etc/passwd", Typeflag: tar.TypeSymlink}); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	tgz := filepath.Join(root, "p.tgz")
	if err := os.WriteFile(tgz, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(root, "out", "dst")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unpack(tgz, dst); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := filepath.WalkDir(filepath.Join(root, "out"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dst, p)
			got = append(got, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "[DynamoDBLocal.jar DynamoDBLocal_lib/x.jar ok.txt]"
	if fmt.Sprint(got) != want {
		t.Fatalf("unpacked %v, want %s", got, want)
	}
	if checkIntegrity(tgz) == nil {
		t.Fatal("checkIntegrity accepted a different tarball")
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
