package dynamo_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
)

// expiresAt returns an item's TTL attribute, 0 when it has none.
func (f *fixture) expiresAt(pk, sk string) int64 {
	f.t.Helper()
	out, err := f.db.GetItem(f.ctx, &dynamodb.GetItemInput{
		TableName: aws.String(f.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk}},
	})
	if err != nil || out.Item == nil {
		f.t.Fatalf("get %s/%s: %v (item %v)", pk, sk, err, out.Item)
	}
	n, ok := out.Item["expiresAt"].(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		f.t.Fatalf("expiresAt %q: %v", n.Value, err)
	}
	return v
}

// A pending file whose upload never arrives is gone once its presigned
// upload and the grace after it are over: hidden from reads at once, and
// carrying the TTL attribute (item and alias) for DynamoDB to delete it.
// A checked file keeps nothing of that.
func TestPendingFilesExpire(t *testing.T) {
	f := newFixture(t)
	d := f.dept("Facilities", "FAC")
	now := f.clock.Now()
	tk := &deskline.Ticket{
		ID: f.id(deskline.PrefixTicket), Key: deskline.TicketKey(d.Code, 1), Title: "Broken chair", Status: deskline.TicketOpen,
		Priority: deskline.PriorityLow, Category: deskline.CategorySupport, DepartmentID: d.ID, IsActive: true, CreatedAt: now, UpdatedAt: now,
	}
	if err := f.store.CreateTicket(f.ctx, tk, 0, nil); err != nil {
		t.Fatal(err)
	}
	target := dynamo.FileTarget{EntityType: dynamo.TypeTicket, EntityID: tk.ID}
	uploadExpires := now.Add(15 * time.Minute)
	newFile := func(name string) *deskline.File {
		fl := &deskline.File{
			ID: f.id(deskline.PrefixFile), TicketID: tk.ID, FileName: name, FileType: "image/png", FileSize: 10,
			UploadedBy: "USR-1", Status: deskline.FilePending, CreatedAt: now, UpdatedAt: now,
		}
		if err := f.store.CreateFile(f.ctx, fl, "files/"+fl.ID, target, uploadExpires); err != nil {
			t.Fatalf("CreateFile %s: %v", name, err)
		}
		return fl
	}
	never, arrived, refused := newFile("never.png"), newFile("arrived.png"), newFile("refused.png")
	wantTTL := uploadExpires.Add(dynamo.PendingFileGrace).Unix()
	for _, fl := range []*deskline.File{never, arrived} {
		if got := f.expiresAt("TICKET#"+tk.ID, "F#"+fl.ID); got != wantTTL {
			t.Errorf("%s item expiresAt = %d, want %d", fl.FileName, got, wantTTL)
		}
		if got := f.expiresAt("FILE#"+fl.ID, "REF"); got != wantTTL {
			t.Errorf("%s alias expiresAt = %d, want %d", fl.FileName, got, wantTTL)
		}
	}
	rec, err := f.store.GetFile(f.ctx, arrived.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.MarkFile(f.ctx, rec, deskline.FileAvailable, "", now.Add(time.Minute)); err != nil {
		t.Fatalf("MarkFile: %v", err)
	}
	rec, err = f.store.GetFile(f.ctx, refused.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.MarkFile(f.ctx, rec, deskline.FileRejected, "not a PNG", now.Add(time.Minute)); err != nil {
		t.Fatalf("MarkFile rejected: %v", err)
	}
	for _, fl := range []*deskline.File{arrived, refused} {
		if got := f.expiresAt("TICKET#"+tk.ID, "F#"+fl.ID); got != 0 {
			t.Errorf("checked file %s item expiresAt = %d, want none", fl.FileName, got)
		}
		if got := f.expiresAt("FILE#"+fl.ID, "REF"); got != 0 {
			t.Errorf("checked file %s alias expiresAt = %d, want none", fl.FileName, got)
		}
	}
	if got, err := f.store.GetFile(f.ctx, refused.ID); err != nil || got.File.Status != deskline.FileRejected || got.File.Reason != "not a PNG" {
		t.Errorf("rejected file = %+v, %v", got, err)
	}

	names := func() []string {
		t.Helper()
		page, err := f.store.ListFiles(f.ctx, dynamo.FileParent{Parent: dynamo.Parent{Ticket: tk}}, 10, "")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, fl := range page.Items {
			out = append(out, fl.FileName)
		}
		return out
	}
	// Within the grace an upload begun in time may still arrive.
	f.clock.Advance(15*time.Minute + dynamo.PendingFileGrace - time.Second)
	if got := names(); len(got) != 3 {
		t.Errorf("files a second before expiry = %v, want all three", got)
	}
	if _, err := f.store.GetFile(f.ctx, never.ID); err != nil {
		t.Errorf("GetFile of a pending file a second before expiry: %v", err)
	}
	f.clock.Advance(time.Second)
	if got := names(); len(got) != 2 || got[0] != "refused.png" || got[1] != "arrived.png" {
		t.Errorf("files at expiry = %v, want [refused.png arrived.png]", got)
	}
	if _, err := f.store.GetFile(f.ctx, never.ID); deskline.ErrorCode(err) != deskline.ENOTFOUND {
		t.Errorf("GetFile of an expired pending file: %v, want not found", err)
	}
	if _, err := f.store.GetFile(f.ctx, arrived.ID); err != nil {
		t.Errorf("GetFile of the checked file: %v", err)
	}
	// A file is checked once.
	late, err := f.store.GetFile(f.ctx, arrived.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.MarkFile(f.ctx, late, deskline.FileAvailable, "", f.clock.Now()); !dynamo.IsFileGone(err) {
		t.Errorf("MarkFile of a file checked already: %v, want IsFileGone", err)
	}
}
