package events_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/deskline/deskline/shared/objects"
)

// TestS3Events checks the S3 notification samples: real S3's shape (event
// names without versitygw's "s3:" prefix) for keys the upload validator
// knows.
func TestS3Events(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("s3", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no S3 events in events/s3 (%v)", err)
	}
	for _, p := range paths {
		var ev events.S3Event
		decodeStrict(t, p, &ev)
		if len(ev.Records) == 0 {
			t.Errorf("%s has no records", p)
		}
		for _, r := range ev.Records {
			if r.EventSource != "aws:s3" || !strings.HasPrefix(r.EventName, "ObjectCreated:") {
				t.Errorf("%s: eventSource %q, eventName %q; want aws:s3, ObjectCreated:*", p, r.EventSource, r.EventName)
			}
			if r.EventTime.IsZero() || r.AWSRegion == "" || r.S3.Bucket.Name == "" || r.S3.Object.Size <= 0 {
				t.Errorf("%s: a record lacks eventTime, awsRegion, bucket name or object size", p)
			}
			if r.S3.Bucket.Arn != "arn:aws:s3:::"+r.S3.Bucket.Name {
				t.Errorf("%s: bucket arn %q does not name bucket %q", p, r.S3.Bucket.Arn, r.S3.Bucket.Name)
			}
			if _, ok := objects.FileIDFromKey(r.S3.Object.Key); !ok {
				t.Errorf("%s: key %q is not an attachment key (files/<fileId>/<random>)", p, r.S3.Object.Key)
			}
		}
	}
}
