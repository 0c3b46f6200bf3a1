package projector

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
)

// ObjectDeleter deletes attachment objects from the bucket; deleting one
// that is not there succeeds.
type ObjectDeleter interface {
	Delete(ctx context.Context, key string) error
}

// WithObjects has the projector delete a file's object whenever its item
// goes (a file deleted, a cascade of its ticket, task or comment), and
// returns it.
func (p *Projector) WithObjects(d ObjectDeleter) *Projector {
	p.objects = d
	return p
}

// file deletes the object of a file item that went away. A replay deletes
// nothing twice.
func (p *Projector) file(ctx context.Context, rec events.DynamoDBEventRecord, old image) error {
	if rec.EventName != "REMOVE" {
		return nil
	}
	key := dynamo.FileObjectKey(old)
	if key == "" {
		return nil
	}
	if p.objects == nil {
		p.log.WarnContext(ctx, "projector: no bucket configured, file object left", slog.String("fileId", old.str("id")))
		return nil
	}
	return p.objects.Delete(ctx, key)
}

// commentFiles deletes a deleted comment's files (their objects follow as
// their items go).
func (p *Projector) commentFiles(ctx context.Context, old image) error {
	var c deskline.Comment
	if err := dynamo.UnmarshalEntity(old, &c); err != nil || c.ID == "" {
		return nil // comment() already reported an undecodable image
	}
	if c.TicketID != "" {
		return p.store.DeleteCommentFiles(ctx, dynamo.TypeTicket, c.TicketID, c.ID)
	}
	return p.store.DeleteCommentFiles(ctx, dynamo.TypeTask, c.TaskID, c.ID)
}
