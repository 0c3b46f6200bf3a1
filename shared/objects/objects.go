// Package objects is the only package that talks to S3. It keeps attachment
// bytes in one private bucket under unguessable keys (files/<fileId>/<random>)
// and hands out short-lived presigned requests: a POST whose policy binds the
// exact key, content type and size range for uploads, and a GET with a
// Content-Disposition: attachment for downloads. The upload validator reads
// an object's size and first bytes through it, and deletes objects.
package objects

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/deskline/deskline/shared/deskline"
)

// Default lifetimes of presigned requests.
const (
	DefaultUploadTTL   = 15 * time.Minute
	DefaultDownloadTTL = 5 * time.Minute
)

// ErrNotFound is returned for an object that does not exist.
var ErrNotFound = errors.New("object not found")

// Store reads, deletes and presigns requests for objects of one bucket.
type Store struct {
	client      *s3.Client
	presign     *s3.PresignClient
	bucket      string
	clock       deskline.Clock
	uploadTTL   time.Duration
	downloadTTL time.Duration
}

// Option configures a Store.
type Option func(*Store)

// WithClock makes presigned requests signed at the clock's time (and expire
// relative to it) instead of the system's: tests use it to make expired
// requests.
func WithClock(c deskline.Clock) Option { return func(s *Store) { s.clock = c } }

// WithUploadTTL sets how long a presigned upload stays valid.
func WithUploadTTL(d time.Duration) Option { return func(s *Store) { s.uploadTTL = d } }

// WithDownloadTTL sets how long a presigned download stays valid.
func WithDownloadTTL(d time.Duration) Option { return func(s *Store) { s.downloadTTL = d } }

// New returns a Store for bucket.
func New(client *s3.Client, bucket string, opts ...Option) *Store {
	s := &Store{
		client: client, presign: s3.NewPresignClient(client), bucket: bucket,
		clock: deskline.SystemClock{}, uploadTTL: DefaultUploadTTL, downloadTTL: DefaultDownloadTTL,
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Bucket returns the bucket's name.
func (s *Store) Bucket() string { return s.bucket }

const keyPrefix = "files/"

// NewKey returns a fresh unguessable object key for a file:
// files/<fileId>/<128 random bits in hex>.
func NewKey(fileID string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	return keyPrefix + fileID + "/" + hex.EncodeToString(b[:])
}

// FileIDFromKey returns the file id a key made by NewKey names.
func FileIDFromKey(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, keyPrefix)
	if !ok {
		return "", false
	}
	id, random, ok := strings.Cut(rest, "/")
	if !ok || !deskline.ValidID(deskline.PrefixFile, id) || len(random) != 32 {
		return "", false
	}
	if _, err := hex.DecodeString(random); err != nil {
		return "", false
	}
	return id, true
}

// Upload is a presigned POST: the browser sends a multipart/form-data POST
// to URL with Fields first and the file last (form field "file").
type Upload struct {
	URL       string            `json:"url"`
	Fields    map[string]string `json:"fields"`
	ExpiresAt time.Time         `json:"expiresAt"`
}

// PresignUpload returns a presigned POST for key whose policy binds the
// exact key, the content type and a content-length-range of 1 to maxSize
// bytes.
func (s *Store) PresignUpload(ctx context.Context, key, contentType string, maxSize int64) (*Upload, error) {
	now := s.clock.Now().UTC()
	out, err := s.presign.PresignPostObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}, func(o *s3.PresignPostOptions) {
		o.Expires = s.uploadTTL
		o.PostPresigner = clockedPost{inner: o.PostPresigner, now: now, ttl: s.uploadTTL}
		o.Conditions = []any{
			map[string]string{"key": key},
			map[string]string{"Content-Type": contentType},
			[]any{"content-length-range", 1, maxSize},
		}
	})
	if err != nil {
		return nil, fmt.Errorf("presign upload of %s: %w", key, err)
	}
	fields := make(map[string]string, len(out.Values)+1)
	for k, v := range out.Values {
		fields[k] = v
	}
	fields["Content-Type"] = contentType
	return &Upload{URL: out.URL, Fields: fields, ExpiresAt: now.Add(s.uploadTTL).Truncate(time.Second)}, nil
}

// clockedPost signs a POST policy at a fixed time instead of the SDK's clock.
type clockedPost struct {
	inner s3.PresignPost
	now   time.Time
	ttl   time.Duration
}

func (c clockedPost) PresignPost(creds aws.Credentials, bucket, key, region, service string, _ time.Time, conditions []any, _ time.Time, optFns ...func(*v4.SignerOptions)) (map[string]string, error) {
	return c.inner.PresignPost(creds, bucket, key, region, service, c.now, conditions, c.now.Add(c.ttl).UTC(), optFns...)
}

// clockedGet signs a presigned URL at a fixed time instead of the SDK's clock.
type clockedGet struct {
	inner s3.HTTPPresignerV4
	now   time.Time
}

func (c clockedGet) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, _ time.Time, optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return c.inner.PresignHTTP(ctx, creds, r, payloadHash, service, region, c.now, optFns...)
}

// PresignDownload returns a presigned GET of key that makes the browser save
// the object as fileName (Content-Disposition: attachment) with the given
// content type, and when it expires.
func (s *Store) PresignDownload(ctx context.Context, key, fileName, contentType string) (string, time.Time, error) {
	now := s.clock.Now().UTC()
	out, err := s.presign.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key),
		ResponseContentDisposition: aws.String(ContentDisposition(fileName)),
		ResponseContentType:        aws.String(contentType),
		ResponseCacheControl:       aws.String("private, no-store"),
	}, func(o *s3.PresignOptions) {
		o.Expires = s.downloadTTL
		o.Presigner = clockedGet{inner: o.Presigner, now: now}
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("presign download of %s: %w", key, err)
	}
	return out.URL, now.Add(s.downloadTTL).Truncate(time.Second), nil
}

// ContentDisposition returns an attachment disposition naming the file:
// an ASCII-only quoted filename with anything unsafe replaced by "_", and
// the exact name as RFC 5987 filename*.
func ContentDisposition(name string) string {
	var ascii, ext strings.Builder
	for _, r := range name {
		if r < 0x20 || r >= 0x7f || strings.ContainsRune(`"\;%`, r) {
			ascii.WriteByte('_')
		} else {
			ascii.WriteRune(r)
		}
	}
	for _, b := range []byte(name) {
		if b < 0x80 && (b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte("!#$&+-.^_`|~", b) >= 0) {
			ext.WriteByte(b)
		} else {
			fmt.Fprintf(&ext, "%%%02X", b)
		}
	}
	fallback := strings.TrimSpace(ascii.String())
	if strings.Trim(fallback, "_.") == "" {
		fallback = "download"
	}
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, fallback, ext.String())
}

// Info is what HeadObject tells about an object.
type Info struct {
	Size        int64
	ContentType string
}

// Head returns an object's size and stored content type, or ErrNotFound.
func (s *Store) Head(ctx context.Context, key string) (*Info, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		if isNotFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("head object %s: %w", key, err)
	}
	return &Info{Size: aws.ToInt64(out.ContentLength), ContentType: aws.ToString(out.ContentType)}, nil
}

// ReadHead returns up to the first n bytes of an object (one ranged GET), or
// ErrNotFound.
func (s *Store) ReadHead(ctx context.Context, key string, n int64) ([]byte, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), Range: aws.String(fmt.Sprintf("bytes=0-%d", n-1)),
	})
	if err != nil {
		if isNotFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("get object %s: %w", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, n))
	if err != nil {
		return nil, fmt.Errorf("read object %s: %w", key, err)
	}
	return b, nil
}

// Delete deletes an object; deleting one that is not there succeeds.
func (s *Store) Delete(ctx context.Context, key string) error {
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}); err != nil && !isNotFound(err) {
		return fmt.Errorf("delete object %s: %w", key, err)
	}
	return nil
}

// Exists reports whether an object exists.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	_, err := s.Head(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func isNotFound(err error) bool {
	var nf *types.NotFound
	var nsk *types.NoSuchKey
	if errors.As(err, &nf) || errors.As(err, &nsk) {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "NotFound" || ae.ErrorCode() == "NoSuchKey")
}
