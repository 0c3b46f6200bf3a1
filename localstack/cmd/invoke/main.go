// Command invoke runs one Lambda function's handler in process with an event
// from a file and prints the function's JSON response, pretty, on stdout
// (logs go to stderr):
//
//	make invoke FN=health EVENT=events/http/health.json
//	go run ./localstack/cmd/invoke -fn auth-login -event events/http/auth-login.json
//
// FN is an HTTP route's function name from the route table (the event is an
// API Gateway HTTP API payload-2.0 request) or "authorizer" (the event is the
// authorizer's REQUEST event).
//
// The handlers need DynamoDB. With DESKLINE_DYNAMODB_ENDPOINT set (the
// DynamoDB Local of a running `make dev` is http://127.0.0.1:8000) they use
// the table DESKLINE_TABLE there, which must exist. Otherwise a throwaway
// in-memory DynamoDB Local is started with a fresh table and stopped at exit.
// The stage defaults to local; without DESKLINE_JWT_SECRET a random secret is
// used, so to have the authorizer accept tokens that `make dev` issued, set
// DESKLINE_JWT_SECRET="$(cat .data/jwt-secret)".
//
// Exit status: 0 when the function returned a response, 1 when it returned
// an error or could not be run, 2 for bad arguments.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/deskline/deskline/localstack/ddblocal"
	"github.com/deskline/deskline/shared/api"
	"github.com/deskline/deskline/shared/app"
	"github.com/deskline/deskline/shared/auth"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/routes"
)

// EnvDynamoDBEndpoint names the variable with the DynamoDB endpoint to use
// instead of a throwaway DynamoDB Local.
const EnvDynamoDBEndpoint = "DESKLINE_DYNAMODB_ENDPOINT"

const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2

	// timeout bounds one invocation, like a Lambda function's timeout.
	timeout = 30 * time.Second
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// invocation is one function with its decoded event.
type invocation struct {
	fn    string
	event any // events.APIGatewayV2HTTPRequest or events.APIGatewayV2CustomAuthorizerV2Request
}

// run is the whole program; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	inv, code := parseArgs(args, stderr)
	if inv == nil {
		return code
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	resp, err := invoke(ctx, inv, logger, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "invoke: %v\n", err)
		return exitError
	}
	out, err := json.MarshalIndent(resp, "", "  ")
	if err != nil {
		fmt.Fprintf(stderr, "invoke: encode the response: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stdout, "%s\n", out)
	return exitOK
}

// parseArgs reads the flags and the event file. On failure it reports to
// stderr and returns a nil invocation with the exit status.
func parseArgs(args []string, stderr io.Writer) (*invocation, int) {
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fn := fs.String("fn", "", "the function's name (an HTTP route's name, or authorizer)")
	eventPath := fs.String("event", "", "the JSON event file, e.g. events/http/health.json")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: invoke -fn <function> -event <file.json>   (make invoke FN=<function> EVENT=<file.json>)")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "functions: %s\n", strings.Join(names(), ", "))
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, exitOK
		}
		return nil, exitUsage
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "invoke: unexpected arguments %q\n", fs.Args())
		fs.Usage()
		return nil, exitUsage
	case *fn == "":
		fmt.Fprintln(stderr, "invoke: -fn (FN=) is required")
		fs.Usage()
		return nil, exitUsage
	case *eventPath == "":
		fmt.Fprintln(stderr, "invoke: -event (EVENT=) is required")
		fs.Usage()
		return nil, exitUsage
	}
	inv := &invocation{fn: *fn}
	route, isRoute := routes.ByName(*fn)
	switch {
	case isRoute:
		inv.event = &events.APIGatewayV2HTTPRequest{}
	case kindOf(*fn) == routes.KindAuthorizer:
		inv.event = &events.APIGatewayV2CustomAuthorizerV2Request{}
	default:
		fmt.Fprintf(stderr, "invoke: unknown function %q; valid names:\n  %s\n", *fn, strings.Join(names(), "\n  "))
		return nil, exitUsage
	}
	b, err := os.ReadFile(*eventPath)
	if err != nil {
		fmt.Fprintf(stderr, "invoke: read the event: %v\n", err)
		return nil, exitUsage
	}
	if err := decodeEvent(b, inv.event, stderr); err != nil {
		fmt.Fprintf(stderr, "invoke: %s: %v\n", *eventPath, err)
		return nil, exitUsage
	}
	if isRoute {
		ev := inv.event.(*events.APIGatewayV2HTTPRequest)
		if want := route.Method + " " + route.Path; ev.RouteKey != want {
			fmt.Fprintf(stderr, "invoke: warning: the event's routeKey is %q, function %s serves %q\n", ev.RouteKey, *fn, want)
		}
	}
	return inv, exitOK
}

// kindOf returns the kind of the named non-HTTP function, or "".
func kindOf(name string) string {
	for _, f := range routes.Functions {
		if f.Name == name {
			return f.Kind
		}
	}
	return ""
}

// names lists the functions invoke can run: every HTTP route, and the
// authorizer.
func names() []string {
	var ns []string
	for _, r := range routes.HTTP {
		ns = append(ns, r.Name)
	}
	for _, f := range routes.Functions {
		if f.Kind == routes.KindAuthorizer {
			ns = append(ns, f.Name)
		}
	}
	return ns
}

// decodeEvent decodes one JSON event into v the way the Lambda runtime does
// (unknown fields ignored), warning about fields the event type lacks: they
// are usually typos.
func decodeEvent(b []byte, v any, stderr io.Writer) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("not a %s event: %w", typeName(v), err)
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	strict := json.NewDecoder(bytes.NewReader(b))
	strict.DisallowUnknownFields()
	if err := strict.Decode(reflect.New(reflect.TypeOf(v).Elem()).Interface()); err != nil {
		fmt.Fprintf(stderr, "invoke: warning: %v (the field is ignored, as the Lambda runtime would)\n", err)
	}
	return nil
}

func typeName(v any) string { return reflect.TypeOf(v).Elem().String() }

// invoke brings up DynamoDB and the app, and calls the function.
func invoke(ctx context.Context, inv *invocation, logger *slog.Logger, stderr io.Writer) (any, error) {
	cfg, err := app.ConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	if os.Getenv(app.EnvStage) == "" {
		cfg.Stage = api.StageLocal
	}
	if len(cfg.JWTSecret) == 0 {
		cfg.JWTSecret = []byte(auth.NewSessionSecret())
	}
	ep := os.Getenv(EnvDynamoDBEndpoint)
	if ep == "" {
		dir, err := ddblocal.Ensure(ctx, ddblocal.DefaultCacheDir(), func(f string, a ...any) {
			fmt.Fprintf(stderr, "invoke: "+f+"\n", a...)
		})
		if err != nil {
			return nil, err
		}
		srv, err := ddblocal.Start(ctx, ddblocal.Options{Dir: dir})
		if err != nil {
			return nil, err
		}
		defer func() {
			if err := srv.Stop(); err != nil {
				fmt.Fprintf(stderr, "invoke: %v\n", err)
			}
		}()
		db := dynamo.LocalClient(srv.Endpoint())
		if err := dynamo.EnsureTable(ctx, db, cfg.Table); err != nil {
			return nil, err
		}
		ep = srv.Endpoint()
	} else if _, err := dynamo.LocalClient(ep).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(cfg.Table)}); err != nil {
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("there is no table %q at %s=%s (set %s, or start `make dev`, which creates it)", cfg.Table, EnvDynamoDBEndpoint, ep, app.EnvTable)
		}
		return nil, fmt.Errorf("DynamoDB at %s=%s: %w (is `make dev` running?)", EnvDynamoDBEndpoint, ep, err)
	}
	a, err := app.New(cfg, app.Deps{DynamoDB: dynamo.LocalClient(ep), Log: logger})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch ev := inv.event.(type) {
	case *events.APIGatewayV2HTTPRequest:
		h, err := a.HTTPHandler(inv.fn)
		if err != nil {
			return nil, err
		}
		return call(func() (any, error) { return h(ctx, *ev) })
	case *events.APIGatewayV2CustomAuthorizerV2Request:
		return call(func() (any, error) { return a.Authorizer.HTTP(ctx, *ev) })
	}
	return nil, fmt.Errorf("no handler for %T", inv.event)
}

// call runs a handler as the Lambda runtime would: a returned error or a
// panic is a failed invocation.
func call(h func() (any, error)) (resp any, err error) {
	defer func() {
		if p := recover(); p != nil {
			resp, err = nil, fmt.Errorf("the function panicked: %v", p)
		}
	}()
	resp, err = h()
	if err != nil {
		return nil, fmt.Errorf("the function returned an error: %w", err)
	}
	return resp, nil
}
