package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/deskline/deskline/localstack/ddblocal"
	"github.com/deskline/deskline/localstack/s3local"
	"github.com/deskline/deskline/shared/app"
	"github.com/deskline/deskline/shared/objects"
	"github.com/deskline/deskline/shared/routes"
)

// DefaultBucket is the attachments bucket's name when Config.Bucket is empty.
const DefaultBucket = "deskline-attachments"

// S3 notifications reach the S3 functions the way Lambda's asynchronous
// invocations would: queued, a few at a time, each retried twice on error.
const (
	s3Workers  = 4
	s3Attempts = 3
	s3Queue    = 1024
)

// s3Side is the local cloud's S3: versitygw (or a given endpoint), the
// attachments bucket, and the receiver that turns versitygw's event
// webhook into events.S3Event invocations of the S3 functions.
type s3Side struct {
	log      *slog.Logger
	server   *s3local.Server // nil when Options.S3Endpoint was given
	client   *s3.Client
	endpoint string
	bucket   string

	hook     *http.Server
	hookDone chan struct{}
	handlers atomic.Pointer[[]namedS3Handler]
	queue    chan events.S3Event
	workers  sync.WaitGroup

	mu        sync.Mutex
	announced map[string]time.Time // keys already turned into events
}

type namedS3Handler struct {
	name string
	h    app.S3Handler
}

// S3Endpoint returns the endpoint of the S3 the attachments live in.
func (c *Cloud) S3Endpoint() string { return c.s3.endpoint }

// S3Client returns a client of that S3 with the cloud's own credentials.
func (c *Cloud) S3Client() *s3.Client { return c.s3.client }

// Bucket returns the attachments bucket's name.
func (c *Cloud) Bucket() string { return c.s3.bucket }

// startS3 brings up S3 before the app is built: versitygw (installed into
// the cache if missing) with its event webhook pointing at a receiver of
// ours, unless Options.S3Endpoint names one; then the bucket. It sets the
// bucket's name in o.Config.
func (c *Cloud) startS3(ctx context.Context, o *Options) error {
	if o.Config.Bucket == "" {
		o.Config.Bucket = DefaultBucket
	}
	s := &s3Side{log: o.Log, bucket: o.Config.Bucket, queue: make(chan events.S3Event, s3Queue), announced: map[string]time.Time{}}
	c.s3 = s
	if o.S3Endpoint != "" {
		// LocalStack's S3 (test credentials). It sends this cloud no
		// notifications: uploads stay pending.
		s.endpoint, s.client = o.S3Endpoint, objects.LocalClient(o.S3Endpoint, s3local.Region, "test", "test")
	} else {
		cache := o.CacheDir
		if cache == "" {
			cache = ddblocal.DefaultCacheDir()
		}
		bin, err := s3local.Ensure(ctx, cache, func(f string, a ...any) { o.Log.Info(fmt.Sprintf(f, a...)) })
		if err != nil {
			return err
		}
		// versitygw sends a test event at start, so the receiver listens first.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("listen for S3 events: %w", err)
		}
		s.hook, s.hookDone = &http.Server{Handler: http.HandlerFunc(s.receive), ReadHeaderTimeout: 10 * time.Second}, make(chan struct{})
		go func() {
			defer close(s.hookDone)
			if err := s.hook.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("s3 event receiver stopped", slog.String("error", err.Error()))
			}
		}()
		if s.server, err = s3local.Start(ctx, s3local.Options{Bin: bin, DataDir: o.S3DataDir, WebhookURL: "http://" + ln.Addr().String() + "/s3-events"}); err != nil {
			return err
		}
		s.endpoint, s.client = s.server.Endpoint(), s.server.Client()
	}
	if err := objects.EnsureBucket(ctx, s.client, s.bucket); err != nil {
		return err
	}
	for range s3Workers {
		s.workers.Add(1)
		go s.work()
	}
	return nil
}

// attach hands S3 events to the route table's S3 functions once the app
// is built.
func (s *s3Side) attach(a *app.App) error {
	var hs []namedS3Handler
	for _, f := range routes.Functions {
		if f.Kind != routes.KindS3 {
			continue
		}
		h, err := a.S3Handler(f.Name)
		if err != nil {
			return err
		}
		hs = append(hs, namedS3Handler{f.Name, h})
	}
	s.handlers.Store(&hs)
	return nil
}

// stop stops the receiver, lets queued events finish, and stops versitygw.
func (s *s3Side) stop() error {
	if s == nil {
		return nil
	}
	var errs []error
	if s.hook != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, s.hook.Shutdown(ctx))
		cancel()
		<-s.hookDone
		s.hook = nil
	}
	if s.queue != nil {
		close(s.queue) // no receiver runs any more
		s.workers.Wait()
		s.queue = nil
	}
	if s.server != nil {
		errs = append(errs, s.server.Stop())
		s.server = nil
	}
	return errors.Join(errs...)
}

// vgwRecord is one record of versitygw's notification (s3event.EventRecord).
type vgwRecord struct {
	EventVersion string `json:"eventVersion"`
	EventSource  string `json:"eventSource"`
	AWSRegion    string `json:"awsRegion"`
	EventTime    string `json:"eventTime"`
	EventName    string `json:"eventName"`
	UserIdentity struct {
		PrincipalID string `json:"PrincipalId"`
	} `json:"userIdentity"`
	RequestParameters struct {
		SourceIPAddress string `json:"sourceIPAddress"`
	} `json:"requestParameters"`
	ResponseElements map[string]string `json:"responseElements"`
	S3               struct {
		SchemaVersion   string `json:"s3SchemaVersion"`
		ConfigurationID string `json:"configurationId"`
		Bucket          struct {
			Name          string `json:"name"`
			OwnerIdentity struct {
				PrincipalID string `json:"PrincipalId"`
			} `json:"ownerIdentity"`
		} `json:"bucket"`
		Object struct {
			Key       string  `json:"key"`
			Size      int64   `json:"size"`
			ETag      *string `json:"eTag"`
			VersionID *string `json:"versionId"`
			Sequencer string  `json:"sequencer"`
		} `json:"object"`
	} `json:"s3"`
}

// receive takes one webhook call of versitygw, turns its ObjectCreated
// records into S3 events as real S3 sends them, and queues them.
func (s *s3Side) receive(w http.ResponseWriter, r *http.Request) {
	var msg struct {
		Records []vgwRecord
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&msg); err != nil {
		http.Error(w, "bad event", http.StatusBadRequest)
		return
	}
	// The test event versitygw sends at start has no records. versitygw
	// gives up on a call after 3 s without retrying, so the work goes on
	// even if it hangs up.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, rec := range msg.Records {
		evs, err := s.events(ctx, rec)
		if err != nil {
			s.log.Error("s3 event dropped", slog.String("event", rec.EventName), slog.String("error", err.Error()))
			continue
		}
		for _, ev := range evs {
			select {
			case s.queue <- ev:
			default:
				s.log.Error("s3 event dropped: queue full", slog.String("key", ev.Records[0].S3.Object.Key))
			}
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// events turns one versitygw record into S3 events, one per object, the way
// real S3 reports it: the name without versitygw's "s3:" prefix
// ("s3:ObjectCreated:Put" is "ObjectCreated:Put"), the key URL-encoded, the
// bucket's ARN. Only ObjectCreated events are delivered (the S3 functions
// subscribe to those). versitygw v1.8.0 reports a POST upload with an empty
// key (it takes keys from the URL path, and a POST goes to the bucket);
// such a record stands for the objects of its size and ETag not announced
// yet, found by listing the bucket.
func (s *s3Side) events(ctx context.Context, rec vgwRecord) ([]events.S3Event, error) {
	name := strings.TrimPrefix(rec.EventName, "s3:")
	if !strings.HasPrefix(name, "ObjectCreated:") || rec.S3.Bucket.Name != s.bucket {
		return nil, nil
	}
	keys := []string{rec.S3.Object.Key}
	if rec.S3.Object.Key == "" {
		var err error
		if keys, err = s.unannounced(ctx, rec); err != nil {
			return nil, err
		}
	} else {
		s.announce(rec.S3.Object.Key)
	}
	at, err := time.Parse(time.RFC3339, rec.EventTime)
	if err != nil {
		at = time.Now().UTC()
	}
	var out []events.S3Event
	for _, key := range keys {
		r := events.S3EventRecord{
			EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: rec.AWSRegion, EventTime: at.UTC(), EventName: name,
			PrincipalID:       events.S3UserIdentity{PrincipalID: rec.UserIdentity.PrincipalID},
			RequestParameters: events.S3RequestParameters{SourceIPAddress: rec.RequestParameters.SourceIPAddress},
			ResponseElements:  rec.ResponseElements,
			S3: events.S3Entity{
				SchemaVersion: "1.0", ConfigurationID: rec.S3.ConfigurationID,
				Bucket: events.S3Bucket{
					Name: s.bucket, Arn: "arn:aws:s3:::" + s.bucket,
					OwnerIdentity: events.S3UserIdentity{PrincipalID: rec.S3.Bucket.OwnerIdentity.PrincipalID},
				},
				Object: events.S3Object{
					Key: encodeKey(key), Size: rec.S3.Object.Size, ETag: strings.Trim(aws.ToString(rec.S3.Object.ETag), `"`),
					VersionID: aws.ToString(rec.S3.Object.VersionID), Sequencer: rec.S3.Object.Sequencer,
				},
			},
		}
		out = append(out, events.S3Event{Records: []events.S3EventRecord{r}})
	}
	return out, nil
}

// encodeKey URL-encodes an object key as S3 notifications do: form
// encoding (spaces as "+"), slashes kept.
func encodeKey(key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = url.QueryEscape(p)
	}
	return strings.Join(parts, "/")
}

func (s *s3Side) announce(key string) {
	s.mu.Lock()
	s.announced[key] = time.Now()
	s.mu.Unlock()
}

// unannounced finds the objects a keyless record stands for: those of its
// size and ETag, written since shortly before its time, not announced yet.
// It claims them, so each object is announced once.
func (s *s3Side) unannounced(ctx context.Context, rec vgwRecord) ([]string, error) {
	etag := strings.Trim(aws.ToString(rec.S3.Object.ETag), `"`)
	since := time.Now().Add(-time.Hour)
	if t, err := time.Parse(time.RFC3339, rec.EventTime); err == nil {
		since = t.Add(-time.Minute)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for attempt := 0; ; attempt++ {
		var keys []string
		p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("list bucket %s: %w", s.bucket, err)
			}
			for _, o := range page.Contents {
				k := aws.ToString(o.Key)
				if _, done := s.announced[k]; done || aws.ToInt64(o.Size) != rec.S3.Object.Size ||
					strings.Trim(aws.ToString(o.ETag), `"`) != etag || aws.ToTime(o.LastModified).Before(since) {
					continue
				}
				keys = append(keys, k)
			}
		}
		if len(keys) > 0 || attempt == 2 {
			now := time.Now()
			for _, k := range keys {
				s.announced[k] = now
			}
			for k, t := range s.announced {
				if now.Sub(t) > time.Hour {
					delete(s.announced, k)
				}
			}
			return keys, nil
		}
		time.Sleep(50 * time.Millisecond) // not listed yet: look again
	}
}

// work invokes the S3 functions with queued events, as Lambda invokes them
// asynchronously: an event whose invocation fails is retried twice, then
// given up (logged; Lambda would send it to the function's failure
// destination).
func (s *s3Side) work() {
	defer s.workers.Done()
	for ev := range s.queue {
		hs := s.handlers.Load()
		if hs == nil {
			s.log.Error("s3 event before the app was ready", slog.String("key", ev.Records[0].S3.Object.Key))
			continue
		}
		ev, err := roundTrip(ev)
		if err != nil {
			s.log.Error("s3 event", slog.String("error", err.Error()))
			continue
		}
		for _, h := range *hs {
			for attempt := 1; ; attempt++ {
				err := invokeS3(h.h, ev)
				if err == nil {
					break
				}
				if attempt == s3Attempts {
					s.log.Error("s3 event given up", slog.String("function", h.name), slog.String("key", ev.Records[0].S3.Object.Key), slog.String("error", err.Error()))
					break
				}
				time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
			}
		}
	}
}

// roundTrip passes an event through JSON, as Lambda delivers it (which also
// fills the objects' URLDecodedKey).
func roundTrip(ev events.S3Event) (events.S3Event, error) {
	var out events.S3Event
	b, err := json.Marshal(ev)
	if err == nil {
		err = json.Unmarshal(b, &out)
	}
	return out, err
}

// invokeS3 runs one invocation; a panic fails it, as it would fail a Lambda.
func invokeS3(h app.S3Handler, ev events.S3Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return h(ctx, ev)
}
