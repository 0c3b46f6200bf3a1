// Package gateway emulates API Gateway for the local cloud: it turns HTTP
// requests into the payload-2.0 events API Gateway sends, runs the Lambda
// authorizer (simple responses), invokes the route's handler and writes back
// its response, with API Gateway's own answers where API Gateway answers
// itself (no route, authorizer failure, handler error, payload too large).
package gateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// API Gateway limits the local gateway enforces.
const (
	MaxPayloadBytes    = 10 << 20
	IntegrationTimeout = 30 * time.Second
)

// HTTPHandler is a route's Lambda handler.
type HTTPHandler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Authorizer is the HTTP API's Lambda authorizer (simple responses).
type Authorizer func(context.Context, events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error)

// Route is one route of the HTTP API.
type Route struct {
	Method     string
	Path       string // /api/users/{id}
	Authorized bool   // run the authorizer first
	Handler    HTTPHandler
}

type compiled struct {
	Route
	segments []string
	literals int
}

// HTTPAPI serves an HTTP API.
type HTTPAPI struct {
	routes     []compiled
	authorizer Authorizer
	fallback   http.Handler
	log        *slog.Logger
	seq        atomic.Uint64
}

// NewHTTPAPI returns an HTTP API with the given routes. Requests that match
// no route go to fallback when it is non-nil (the local cloud serves its
// page there), else get API Gateway's 404.
func NewHTTPAPI(routes []Route, authorizer Authorizer, fallback http.Handler, log *slog.Logger) *HTTPAPI {
	g := &HTTPAPI{authorizer: authorizer, fallback: fallback, log: log}
	for _, r := range routes {
		c := compiled{Route: r, segments: strings.Split(strings.Trim(r.Path, "/"), "/")}
		for _, s := range c.segments {
			if !strings.HasPrefix(s, "{") {
				c.literals++
			}
		}
		g.routes = append(g.routes, c)
	}
	// API Gateway prefers the most specific route: more literal segments win,
	// so /api/users/profile beats /api/users/{id}.
	sort.SliceStable(g.routes, func(i, j int) bool { return g.routes[i].literals > g.routes[j].literals })
	return g
}

// match finds the route for method and path, with its path parameters.
func (g *HTTPAPI) match(method, path string) (*compiled, map[string]string, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	pathMatched := false
	for i := range g.routes {
		r := &g.routes[i]
		if len(r.segments) != len(segs) {
			continue
		}
		params := map[string]string{}
		ok := true
		for k, s := range r.segments {
			if strings.HasPrefix(s, "{") {
				if segs[k] == "" {
					ok = false
					break
				}
				v, err := url.PathUnescape(segs[k])
				if err != nil {
					ok = false
					break
				}
				params[strings.Trim(s, "{}")] = v
			} else if s != segs[k] {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		pathMatched = true
		if r.Method == method {
			return r, params, true
		}
	}
	return nil, nil, pathMatched
}

func writeGatewayError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"message":%q}`, msg)
}

// ServeHTTP implements http.Handler.
func (g *HTTPAPI) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	start := time.Now()
	setCORS(w, req)
	if req.Method == http.MethodOptions && req.Header.Get("Access-Control-Request-Method") != "" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	route, params, _ := g.match(req.Method, req.URL.Path)
	if route == nil {
		if g.fallback != nil {
			g.fallback.ServeHTTP(w, req)
			return
		}
		writeGatewayError(w, http.StatusNotFound, "Not Found")
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, MaxPayloadBytes+1))
	if err != nil {
		writeGatewayError(w, http.StatusBadRequest, "Bad Request")
		return
	}
	if len(body) > MaxPayloadBytes {
		writeGatewayError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	ev := g.event(req, route, params, body)
	ctx, cancel := context.WithTimeout(req.Context(), IntegrationTimeout)
	defer cancel()
	if route.Authorized {
		res, err := g.authorize(ctx, ev)
		switch {
		case err != nil:
			g.log.Error("authorizer failed", slog.String("requestId", ev.RequestContext.RequestID), slog.String("error", err.Error()))
			writeGatewayError(w, http.StatusInternalServerError, "Internal Server Error")
			return
		case !res.IsAuthorized:
			writeGatewayError(w, http.StatusForbidden, "Forbidden")
			return
		}
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: res.Context}
	}
	resp, err := invoke(ctx, route.Handler, ev)
	if err != nil {
		g.log.Error("handler failed", slog.String("route", ev.RouteKey), slog.String("requestId", ev.RequestContext.RequestID), slog.String("error", err.Error()))
		if ctx.Err() == context.DeadlineExceeded {
			writeGatewayError(w, http.StatusServiceUnavailable, "Service Unavailable")
			return
		}
		writeGatewayError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	writeResponse(w, resp)
	g.log.Debug("http", slog.String("route", ev.RouteKey), slog.Int("status", resp.StatusCode), slog.Duration("duration", time.Since(start)))
}

// invoke calls a handler the way the Lambda runtime would: a panic is a
// failed invocation, not a crashed gateway.
func invoke(ctx context.Context, h HTTPHandler, ev events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return h(ctx, ev)
}

func (g *HTTPAPI) authorize(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (res events.APIGatewayV2CustomAuthorizerSimpleResponse, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("authorizer panicked: %v", p)
		}
	}()
	return g.authorizer(ctx, events.APIGatewayV2CustomAuthorizerV2Request{
		Version:               "2.0",
		Type:                  "REQUEST",
		RouteArn:              "arn:aws:execute-api:us-east-1:000000000000:local/$default/" + ev.RequestContext.HTTP.Method + ev.RawPath,
		RouteKey:              ev.RouteKey,
		RawPath:               ev.RawPath,
		RawQueryString:        ev.RawQueryString,
		Cookies:               ev.Cookies,
		Headers:               ev.Headers,
		QueryStringParameters: ev.QueryStringParameters,
		PathParameters:        ev.PathParameters,
		RequestContext:        ev.RequestContext,
	})
}

// event builds the payload-2.0 event API Gateway would send.
func (g *HTTPAPI) event(req *http.Request, route *compiled, params map[string]string, body []byte) events.APIGatewayV2HTTPRequest {
	now := time.Now().UTC()
	headers := map[string]string{}
	var cookies []string
	for k, v := range req.Header {
		lk := strings.ToLower(k)
		if lk == "cookie" {
			for _, c := range v {
				for _, part := range strings.Split(c, ";") {
					if p := strings.TrimSpace(part); p != "" {
						cookies = append(cookies, p)
					}
				}
			}
			continue
		}
		headers[lk] = strings.Join(v, ",")
	}
	if req.Host != "" {
		headers["host"] = req.Host
	}
	var qsp map[string]string
	if q := req.URL.Query(); len(q) > 0 {
		qsp = make(map[string]string, len(q))
		for k, v := range q {
			qsp[k] = strings.Join(v, ",")
		}
	}
	if len(params) == 0 {
		params = nil
	}
	sourceIP, _, _ := net.SplitHostPort(req.RemoteAddr)
	requestID := fmt.Sprintf("%s-%06d", now.Format("20060102T150405"), g.seq.Add(1))
	routeKey := route.Method + " " + route.Path
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: routeKey, RawPath: req.URL.EscapedPath(), RawQueryString: req.URL.RawQuery,
		Cookies: cookies, Headers: headers, QueryStringParameters: qsp, PathParameters: params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: routeKey, AccountID: "000000000000", Stage: "$default", RequestID: requestID,
			APIID: "local", DomainName: req.Host, DomainPrefix: strings.Split(req.Host, ".")[0],
			Time: now.Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: req.Method, Path: req.URL.Path, Protocol: req.Proto, SourceIP: sourceIP, UserAgent: req.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if isText(req.Header.Get("Content-Type")) && utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	return ev
}

func isText(ct string) bool {
	ct = strings.ToLower(ct)
	return ct == "" || strings.HasPrefix(ct, "text/") || strings.Contains(ct, "json") || strings.Contains(ct, "xml") ||
		strings.HasPrefix(ct, "application/x-www-form-urlencoded")
}

func writeResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) {
	h := w.Header()
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			writeGatewayError(w, http.StatusInternalServerError, "Internal Server Error")
			return
		}
		body = b
	}
	if h.Get("Content-Type") == "" && len(body) > 0 {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = io.Copy(w, bytes.NewReader(body))
}

// setCORS answers as the HTTP API's CORS configuration would: any origin,
// the API's methods, Authorization and Content-Type headers.
func setCORS(w http.ResponseWriter, req *http.Request) {
	if req.Header.Get("Origin") == "" {
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match, Idempotency-Key")
	h.Set("Access-Control-Expose-Headers", "ETag, X-Next-Cursor, Retry-After")
	h.Set("Access-Control-Max-Age", "600")
}
