// Package cloud is Deskline's local cloud: DynamoDB Local for the table and
// an API Gateway stand-in serving every route of the route table with the
// same handlers and authorizer the Lambdas run. Start it from main (make dev)
// or from tests.
package cloud

import (
	"context"
	"errors"
	"fmt"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/deskline/deskline/localstack/ddblocal"
	"github.com/deskline/deskline/localstack/gateway"
	"github.com/deskline/deskline/localstack/streams"
	"github.com/deskline/deskline/shared/app"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/routes"
)

// Options configure the local cloud.
type Options struct {
	HTTPAddr string // "127.0.0.1:3000"; port 0 picks a free one
	WSAddr   string // "127.0.0.1:3001"; port 0 picks a free one
	// DynamoDBEndpoint, when set, is used instead of starting DynamoDB Local
	// (tests share one instance; LocalStack users point it at LocalStack).
	DynamoDBEndpoint string
	DynamoDBPort     int    // DynamoDB Local's port; 0 picks a free one
	DataDir          string // DynamoDB Local's -dbPath; "" keeps data in memory
	CacheDir         string // where DynamoDB Local is unpacked
	Config           app.Config
	AdminEmail       string // seeded as an approved admin when set
	AdminPassword    string
	Clock            deskline.Clock
	Log              *slog.Logger
	JVMLog           io.Writer
	// StreamStateDir keeps the stream pump's checkpoints and failed batches
	// (so a restart resumes where it stopped); "" keeps them in memory.
	StreamStateDir string
	// S3Endpoint, when set, is used instead of starting versitygw (see
	// s3.go); S3DataDir keeps versitygw's buckets, "" a temporary directory.
	S3Endpoint string
	S3DataDir  string
}

// Cloud is a running local cloud.
type Cloud struct {
	App     *app.App
	HTTPURL string
	// DynamoDBEndpoint is the endpoint the cloud's table lives at.
	DynamoDBEndpoint string

	// WSURL is the WebSocket API (ws://…); ConnectionsURL its @connections endpoint.
	WSURL          string
	ConnectionsURL string
	// WS is the WebSocket API.
	WS *gateway.WebSocketAPI
	// Pump feeds the table's stream to the stream consumers.
	Pump *streams.Pump

	ddb      *ddblocal.Server
	servers  []*http.Server
	serving  sync.WaitGroup
	stopPump context.CancelFunc
	pumpDone chan struct{}
	s3       *s3Side

	stopSchedules context.CancelFunc
	scheduled     sync.WaitGroup
}

// Start brings the local cloud up: DynamoDB Local (unless an endpoint is
// given), the table, the seeded admin, and the HTTP API. It returns once
// everything answers.
func Start(ctx context.Context, o Options) (*Cloud, error) {
	c := &Cloud{DynamoDBEndpoint: o.DynamoDBEndpoint}
	if err := c.start(ctx, o); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Cloud) start(ctx context.Context, o Options) (err error) {
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	// Everything binds loopback: an empty address would mean every interface.
	if o.HTTPAddr == "" {
		o.HTTPAddr = "127.0.0.1:0"
	}
	if o.WSAddr == "" {
		o.WSAddr = "127.0.0.1:0"
	}
	if c.DynamoDBEndpoint == "" {
		dir, err := ddblocal.Ensure(ctx, o.CacheDir, func(f string, a ...any) { o.Log.Info(fmt.Sprintf(f, a...)) })
		if err != nil {
			return err
		}
		if c.ddb, err = ddblocal.Start(ctx, ddblocal.Options{Dir: dir, Port: o.DynamoDBPort, DataDir: o.DataDir, Log: o.JVMLog}); err != nil {
			return err
		}
		c.DynamoDBEndpoint = c.ddb.Endpoint()
	}
	db := dynamo.LocalClient(c.DynamoDBEndpoint)
	if err := dynamo.EnsureTable(ctx, db, o.Config.Table); err != nil {
		return err
	}
	if err := c.startS3(ctx, &o); err != nil {
		return err
	}
	// Listen first: the notifier's @connections client needs the WebSocket
	// API's address.
	httpLn, err := net.Listen("tcp", o.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen for the HTTP API on %s: %w", o.HTTPAddr, err)
	}
	wsLn, err := net.Listen("tcp", o.WSAddr)
	if err != nil {
		httpLn.Close()
		return fmt.Errorf("listen for the WebSocket API on %s: %w", o.WSAddr, err)
	}
	c.HTTPURL, c.WSURL = "http://"+httpLn.Addr().String(), "ws://"+wsLn.Addr().String()
	c.ConnectionsURL = "http://" + wsLn.Addr().String()
	c.App, err = app.New(o.Config, app.Deps{DynamoDB: db, Connections: connectionsClient(c.ConnectionsURL), Clock: o.Clock, Log: o.Log, S3: c.s3.client})
	if err != nil {
		httpLn.Close()
		wsLn.Close()
		return err
	}
	if o.AdminEmail != "" {
		if _, err := c.App.Server.EnsureAdmin(ctx, "admin", o.AdminEmail, o.AdminPassword); err != nil {
			httpLn.Close()
			wsLn.Close()
			return err
		}
	}
	var rs []gateway.Route
	for _, r := range routes.HTTP {
		h, err := c.App.HTTPHandler(r.Name)
		if err != nil {
			return err
		}
		rs = append(rs, gateway.Route{Method: r.Method, Path: r.Path, Authorized: !r.Access.Public, Handler: gateway.HTTPHandler(h)})
	}
	wsRoutes := map[string]gateway.WSHandler{}
	for _, f := range routes.Functions {
		if f.Kind == routes.KindWebSocket {
			h, err := c.App.WebSocketHandler(f.Name)
			if err != nil {
				return err
			}
			wsRoutes[f.RouteKey] = gateway.WSHandler(h)
		}
	}
	c.WS = gateway.NewWebSocketAPI(wsRoutes, c.App.Authorizer.WebSocket, o.Log)
	c.serve(httpLn, gateway.NewHTTPAPI(rs, c.App.Authorizer.HTTP, webHandler(c.WSURL, c.App.Store, o.Log), o.Log), o.Log)
	c.serve(wsLn, c.WS, o.Log)
	if err := c.s3.attach(c.App); err != nil {
		return err
	}
	if err := c.startSchedules(o.Log); err != nil {
		return err
	}
	return c.startPump(o, db)
}

// serve runs an HTTP server on ln until Close.
func (c *Cloud) serve(ln net.Listener, h http.Handler, log *slog.Logger) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	c.servers = append(c.servers, srv)
	c.serving.Add(1)
	go func() {
		defer c.serving.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("server stopped", slog.String("addr", ln.Addr().String()), slog.String("error", err.Error()))
		}
	}()
}

// connectionsClient is the notifier's @connections client for the local
// WebSocket API (which, like DynamoDB Local, ignores signatures).
func connectionsClient(url string) *apigatewaymanagementapi.Client {
	return apigatewaymanagementapi.New(apigatewaymanagementapi.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
}

// startPump runs every stream consumer of the route table the way Lambda's
// event source mappings would, filtered to the item types each handles.
func (c *Cloud) startPump(o Options, db streams.DescribeTabler) error {
	var consumers []streams.Consumer
	for _, f := range routes.Functions {
		if f.Kind != routes.KindStream {
			continue
		}
		h, err := c.App.StreamHandler(f.Name)
		if err != nil {
			return err
		}
		consumers = append(consumers, streams.Consumer{Name: f.Name, ItemTypes: f.ItemTypes, Handler: streams.Handler(h)})
	}
	opts := streams.Options{Log: o.Log}
	if o.StreamStateDir != "" {
		opts.CheckpointFile = filepath.Join(o.StreamStateDir, "stream-checkpoints.json")
		opts.DestinationFile = filepath.Join(o.StreamStateDir, "stream-failures.jsonl")
	}
	c.Pump = streams.New(streams.LocalClient(c.DynamoDBEndpoint), db, o.Config.Table, consumers, opts)
	ctx, cancel := context.WithCancel(context.Background())
	c.stopPump, c.pumpDone = cancel, make(chan struct{})
	go func() {
		defer close(c.pumpDone)
		_ = c.Pump.Run(ctx)
	}()
	return nil
}

// Close stops the HTTP API, the stream pump and the DynamoDB Local it started.
func (c *Cloud) Close() error {
	var errs []error
	if c.stopSchedules != nil {
		c.stopSchedules()
		c.scheduled.Wait()
		c.stopSchedules = nil
	}
	if c.stopPump != nil {
		c.stopPump()
		<-c.pumpDone
		c.stopPump = nil
	}
	if c.WS != nil {
		c.WS.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, srv := range c.servers {
		errs = append(errs, srv.Shutdown(ctx))
	}
	c.serving.Wait()
	c.servers = nil
	errs = append(errs, c.s3.stop())
	c.s3 = nil
	if c.ddb != nil {
		errs = append(errs, c.ddb.Stop())
		c.ddb = nil
	}
	return errors.Join(errs...)
}
