package uploads

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/objects"
)

// Store is the part of the table the validator uses.
type Store interface {
	GetFile(ctx context.Context, id string) (*dynamo.FileRecord, error)
	MarkFile(ctx context.Context, rec *dynamo.FileRecord, status deskline.FileStatus, reason string, now time.Time) error
}

// Objects is the part of the bucket the validator uses.
type Objects interface {
	Bucket() string
	Head(ctx context.Context, key string) (*objects.Info, error)
	ReadHead(ctx context.Context, key string, n int64) ([]byte, error)
	Delete(ctx context.Context, key string) error
}

// Validator checks uploaded objects.
type Validator struct {
	store   Store
	objects Objects
	clock   deskline.Clock
	log     *slog.Logger
}

// New returns a Validator.
func New(store Store, objs Objects, clock deskline.Clock, log *slog.Logger) *Validator {
	return &Validator{store: store, objects: objs, clock: clock, log: log}
}

// Outcome is what the validator did with one object.
type Outcome string

// Outcomes.
const (
	Available Outcome = "available" // the attachment is now available
	Rejected  Outcome = "rejected"  // the attachment is rejected and its object deleted
	Deleted   Outcome = "deleted"   // no attachment expected the object: it was deleted
	Skipped   Outcome = "skipped"   // nothing to do (a repeated or foreign event)
)

// Handle is the Lambda handler: it checks every ObjectCreated record. An
// error makes Lambda retry the whole event, which is safe: a checked
// attachment is not pending any more and is skipped.
func (v *Validator) Handle(ctx context.Context, ev events.S3Event) error {
	var errs []error
	for _, r := range ev.Records {
		if !strings.HasPrefix(r.EventName, "ObjectCreated:") {
			continue
		}
		if r.S3.Bucket.Name != v.objects.Bucket() {
			v.log.WarnContext(ctx, "upload validator: event of another bucket", slog.String("bucket", r.S3.Bucket.Name))
			continue
		}
		// S3 event keys are URL-encoded, spaces as "+"; the Lambda runtime's
		// decoding fills URLDecodedKey.
		key := r.S3.Object.URLDecodedKey
		if key == "" {
			var err error
			if key, err = url.QueryUnescape(r.S3.Object.Key); err != nil {
				key = r.S3.Object.Key
			}
		}
		out, reason, err := v.Validate(ctx, key)
		if err != nil {
			v.log.ErrorContext(ctx, "upload validator failed", slog.String("key", key), slog.String("error", err.Error()))
			errs = append(errs, err)
			continue
		}
		v.log.InfoContext(ctx, "upload checked", slog.String("key", key), slog.String("outcome", string(out)), slog.String("reason", reason))
	}
	return errors.Join(errs...)
}

// Validate checks one object and returns what it did, with the reason of a
// rejection.
func (v *Validator) Validate(ctx context.Context, key string) (Outcome, string, error) {
	id, ok := objects.FileIDFromKey(key)
	if !ok {
		return v.drop(ctx, key)
	}
	rec, err := v.store.GetFile(ctx, id)
	if deskline.ErrorCode(err) == deskline.ENOTFOUND {
		return v.drop(ctx, key)
	} else if err != nil {
		return "", "", err
	}
	if rec.ObjectKey != key {
		return v.drop(ctx, key)
	}
	switch rec.File.Status {
	case deskline.FileAvailable:
		return Skipped, "", nil
	case deskline.FileRejected:
		// Checked before; make sure its object is gone.
		return Rejected, rec.File.Reason, v.objects.Delete(ctx, key)
	}
	info, err := v.objects.Head(ctx, key)
	if errors.Is(err, objects.ErrNotFound) {
		return Skipped, "", nil // a late event of an object deleted since
	} else if err != nil {
		return "", "", err
	}
	reason, err := v.check(ctx, rec.File, key, info)
	if errors.Is(err, objects.ErrNotFound) {
		return Skipped, "", nil // deleted while being read
	} else if err != nil {
		return "", "", err
	}
	status, outcome := deskline.FileAvailable, Available
	if reason != "" {
		status, outcome = deskline.FileRejected, Rejected
	}
	err = v.store.MarkFile(ctx, rec, status, reason, v.clock.Now())
	if dynamo.IsFileGone(err) {
		// Deleted (or checked by a concurrent invocation) meanwhile: if the
		// item is gone, so must the object be.
		if _, gerr := v.store.GetFile(ctx, id); deskline.ErrorCode(gerr) == deskline.ENOTFOUND {
			return v.drop(ctx, key)
		}
		return Skipped, "", nil
	} else if err != nil {
		return "", "", err
	}
	if status == deskline.FileRejected {
		if err := v.objects.Delete(ctx, key); err != nil {
			return "", "", err
		}
	}
	return outcome, reason, nil
}

// check returns why an object does not match its attachment, "" when it
// does.
func (v *Validator) check(ctx context.Context, f *deskline.File, key string, info *objects.Info) (string, error) {
	switch {
	case info.Size != f.FileSize:
		return fmt.Sprintf("size is %d bytes, %d were declared", info.Size, f.FileSize), nil
	case info.Size > deskline.MaxFileSize:
		return "file is larger than 10 MB", nil
	}
	if ct, _, _ := strings.Cut(info.ContentType, ";"); !strings.EqualFold(strings.TrimSpace(ct), f.FileType) {
		return fmt.Sprintf("stored content type %q is not the declared %s", info.ContentType, f.FileType), nil
	}
	head, err := v.objects.ReadHead(ctx, key, SniffBytes)
	if err != nil {
		return "", err
	}
	return Check(f.FileType, head, int64(len(head)) >= info.Size), nil
}

// drop deletes an object no attachment expects.
func (v *Validator) drop(ctx context.Context, key string) (Outcome, string, error) {
	if err := v.objects.Delete(ctx, key); err != nil {
		return "", "", err
	}
	return Deleted, "no attachment expects this object", nil
}
