package app

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/deskline/deskline/shared/api"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/objects"
	"github.com/deskline/deskline/shared/projector"
	"github.com/deskline/deskline/shared/uploads"
)

// wireFiles builds the attachments bucket and the upload validator from
// the S3 client, if there is one, and hands the bucket to the handlers and
// the projector. Without an S3 client, file uploads and downloads answer 500
// and the projector leaves objects alone.
func wireFiles(cfg Config, d Deps, store *dynamo.Store, srv *api.Server, p *projector.Projector) (*objects.Store, *uploads.Validator, error) {
	if d.S3 == nil {
		return nil, nil, nil
	}
	if cfg.Bucket == "" {
		return nil, nil, fmt.Errorf("an S3 client needs the attachments bucket (%s)", EnvBucket)
	}
	objs := objects.New(d.S3, cfg.Bucket, objects.WithClock(d.Clock))
	srv.Objects = objs
	p.WithObjects(objs)
	return objs, uploads.New(store, objs, d.Clock, d.Log), nil
}

// S3Handler is the Lambda handler of a function S3 notifications invoke.
type S3Handler func(context.Context, events.S3Event) error

// S3Handler returns the handler of the named S3-invoked function.
func (a *App) S3Handler(name string) (S3Handler, error) {
	switch name {
	case "upload-validator":
		if a.Uploads == nil {
			return nil, fmt.Errorf("%s needs an S3 client and the attachments bucket (%s)", name, EnvBucket)
		}
		return a.Uploads.Handle, nil
	}
	return nil, fmt.Errorf("no S3 function named %q", name)
}
