package cloud_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/deskline/deskline/localstack/cloud"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/objects"
)

// noRedirects is an HTTP client that shows redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// testPNG encodes a real w×h PNG image.
func testPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 7), uint8(y * 13), uint8(x ^ y), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// elfBinary is the start of a Linux executable, padded to n bytes.
func elfBinary(n int) []byte {
	b := make([]byte, n)
	copy(b, "\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00")
	for i := 64; i < n; i++ {
		b[i] = byte(i * 31)
	}
	return b
}

// started is the answer to POST /api/files/...: the pending file and its
// presigned upload.
type started struct {
	File   map[string]any `json:"file"`
	Upload struct {
		URL       string            `json:"url"`
		Fields    map[string]string `json:"fields"`
		ExpiresAt time.Time         `json:"expiresAt"`
	} `json:"upload"`
}

func (s started) id() string  { return s.File["id"].(string) }
func (s started) key() string { return s.Upload.Fields["key"] }

// startUpload asks the API for an upload to parent ("ticket/<id>", ...).
func (w *world) startUpload(token, parent, name, contentType string, size int) started {
	w.c.t.Helper()
	r := w.c.as(token).do("POST", "/api/files/"+parent, map[string]any{"fileName": name, "contentType": contentType, "size": size})
	want(w.c.t, r, 201, "start upload to "+parent)
	return decode[started](w.c.t, r)
}

// postObject uploads content with a presigned POST, as a browser form does:
// the fields, then the file. It returns S3's status and body.
func postObject(t testing.TB, s started, content []byte) (int, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	names := make([]string, 0, len(s.Upload.Fields))
	for k := range s.Upload.Fields {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if err := mw.WriteField(k, s.Upload.Fields[k]); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile("file", "upload.bin")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(content)
	mw.Close()
	resp, err := http.Post(s.Upload.URL, mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatalf("POST %s: %v", s.Upload.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// upload starts an upload and sends content; S3 must take it.
func (w *world) upload(token, parent, name, contentType string, content []byte) started {
	w.c.t.Helper()
	s := w.startUpload(token, parent, name, contentType, len(content))
	if code, body := postObject(w.c.t, s, content); code != http.StatusNoContent {
		w.c.t.Fatalf("S3 refused the upload: %d %s", code, body)
	}
	return s
}

// waitChecked polls a file's metadata until it is no longer pending.
func (w *world) waitChecked(token, id string) map[string]any {
	w.c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := w.c.as(token).do("GET", "/api/files/"+id, nil)
		want(w.c.t, r, 200, "get file")
		f := r.obj(w.c.t)
		if f["status"] != string(deskline.FilePending) {
			return f
		}
		if time.Now().After(deadline) {
			w.c.t.Fatalf("file %s still pending after 15 s", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// eventually polls cond until it holds or 15 s pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 15 s: %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func objectExists(t testing.TB, c *cloud.Cloud, key string) bool {
	t.Helper()
	ok, err := c.App.Objects.Exists(context.Background(), key)
	if err != nil {
		t.Fatalf("head %s: %v", key, err)
	}
	return ok
}

var availableFiles sync.Map // *world → id of an available PNG on ticketA, uploaded by empA

// availableFile returns a checked, available PNG attached to ticketA.
func (w *world) availableFile() string {
	w.c.t.Helper()
	if id, ok := availableFiles.Load(w); ok {
		return id.(string)
	}
	s := w.upload(w.empA, "ticket/"+w.ticketA, "diagram.png", "image/png", testPNG(w.c.t, 16, 16))
	if f := w.waitChecked(w.empA, s.id()); f["status"] != "available" {
		w.c.t.Fatalf("the PNG was not made available: %v", f)
	}
	availableFiles.Store(w, s.id())
	return s.id()
}

// pendingFile starts an upload to parent as the caller and returns its id.
func (w *world) pendingFile(token, parent string) string {
	w.c.t.Helper()
	return w.startUpload(token, parent, "notes.txt", "text/plain", 10).id()
}

func TestFileUploadPNGBecomesAvailableAndDownloads(t *testing.T) {
	w := newWorld(t)
	img := testPNG(t, 64, 48)
	s := w.upload(w.empA, "ticket/"+w.ticketA, "Screen shot: 1.png", "image/png", img)
	if s.File["status"] != "pending" || s.File["ticket_id"] != w.ticketA || s.File["file_size"] != float64(len(img)) {
		t.Errorf("started file = %v", s.File)
	}
	if !strings.HasPrefix(s.key(), "files/"+s.id()+"/") || s.Upload.ExpiresAt.Before(time.Now()) {
		t.Errorf("upload key %q, expiresAt %v", s.key(), s.Upload.ExpiresAt)
	}
	f := w.waitChecked(w.headA, s.id())
	if f["status"] != "available" || f["file_name"] != "Screen shot: 1.png" || f["file_type"] != "image/png" ||
		f["uploaded_by"] != w.empAID || f["file_size"] != float64(len(img)) || f["reason"] != nil {
		t.Errorf("checked file = %v", f)
	}
	if up, _ := f["uploader"].(map[string]any); up == nil || up["id"] != w.empAID {
		t.Errorf("uploader = %v", f["uploader"])
	}
	// Metadata never shows where the bytes are.
	raw := w.c.as(w.empA).do("GET", "/api/files/"+s.id(), nil)
	if strings.Contains(string(raw.Body), "files/") || strings.Contains(string(raw.Body), "file_path") || strings.Contains(string(raw.Body), "objectKey") {
		t.Errorf("metadata exposes a storage path: %s", raw.Body)
	}

	// Listed on the ticket, not elsewhere.
	list := decode[[]map[string]any](t, w.c.as(w.headA).do("GET", "/api/files/ticket/"+w.ticketA, nil))
	if len(list) != 1 || list[0]["id"] != s.id() {
		t.Errorf("ticket files = %v", list)
	}
	if l := decode[[]map[string]any](t, w.c.as(w.headA).do("GET", "/api/files/task/"+w.taskA, nil)); len(l) != 0 {
		t.Errorf("task files = %v", l)
	}
	// And in the ticket's details, with its uploader, without the storage path.
	detail := w.c.as(w.headA).do("GET", "/api/tickets/"+w.ticketA, nil)
	atts, _ := detail.obj(t)["attachments"].([]any)
	if len(atts) != 1 {
		t.Fatalf("ticket attachments = %v", detail.obj(t)["attachments"])
	}
	if a := atts[0].(map[string]any); a["id"] != s.id() || a["status"] != "available" || a["uploader"].(map[string]any)["id"] != w.empAID {
		t.Errorf("ticket attachment = %v", a)
	}
	if strings.Contains(string(detail.Body), "objectKey") || strings.Contains(string(detail.Body), "files/") {
		t.Errorf("ticket details expose a storage path: %s", detail.Body)
	}

	// Download: a redirect to a presigned GET that serves the same bytes as
	// an attachment.
	req, _ := http.NewRequest("GET", w.cloud.HTTPURL+"/api/files/"+s.id()+"/download", nil)
	req.Header.Set("Authorization", "Bearer "+w.empA)
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, w.cloud.S3Endpoint()+"/") || !strings.Contains(loc, "X-Amz-Expires=300") {
		t.Fatalf("download: %d, Location %q", resp.StatusCode, loc)
	}
	got, err := http.Get(loc)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if got.StatusCode != 200 || !bytes.Equal(body, img) {
		t.Fatalf("presigned GET: %d, %d bytes (want %d), equal %v", got.StatusCode, len(body), len(img), bytes.Equal(body, img))
	}
	if cd := got.Header.Get("Content-Disposition"); cd != `attachment; filename="Screen shot: 1.png"; filename*=UTF-8''Screen%20shot%3A%201.png` {
		t.Errorf("Content-Disposition = %q", cd)
	}
	if ct := got.Header.Get("Content-Type"); ct != "image/png" {
		t.Errorf("Content-Type = %q", ct)
	}
}

func TestFileUploadOverTenMBRefusedByS3(t *testing.T) {
	w := newWorld(t)
	s := w.startUpload(w.empA, "ticket/"+w.ticketA, "big.png", "image/png", deskline.MaxFileSize)
	content := append(testPNG(t, 8, 8), make([]byte, deskline.MaxFileSize)...)[:deskline.MaxFileSize+1]
	code, body := postObject(t, s, content)
	t.Logf("S3 answered %d %s", code, body)
	if code != http.StatusBadRequest || !strings.Contains(body, "EntityTooLarge") {
		t.Fatalf("S3 answered %d %s, want 400 EntityTooLarge", code, body)
	}
	if objectExists(t, w.cloud, s.key()) {
		t.Errorf("the refused object exists")
	}
	if f := w.c.as(w.empA).do("GET", "/api/files/"+s.id(), nil).obj(t); f["status"] != "pending" {
		t.Errorf("file = %v", f)
	}
	// The API refuses to start one over 10 MB.
	r := w.c.as(w.empA).do("POST", "/api/files/ticket/"+w.ticketA, map[string]any{"fileName": "big.png", "contentType": "image/png", "size": deskline.MaxFileSize + 1})
	want(t, r, 400, "declare 10 MB + 1 byte")
}

func TestFileExecutableDeclaredPNGRejected(t *testing.T) {
	w := newWorld(t)
	exe := elfBinary(4096)
	s := w.upload(w.empA, "task/"+w.taskA, "cat.png", "image/png", exe)
	f := w.waitChecked(w.empA, s.id())
	if f["status"] != "rejected" || !strings.Contains(fmt.Sprint(f["reason"]), "not image/png") {
		t.Fatalf("file = %v", f)
	}
	eventually(t, "the rejected object is gone", func() bool { return !objectExists(t, w.cloud, s.key()) })
	r := w.c.as(w.empA).do("GET", "/api/files/"+s.id()+"/download", nil)
	want(t, r, http.StatusGone, "download a rejected file")

	// A size that differs from the declared one is rejected too.
	s2 := w.startUpload(w.empA, "task/"+w.taskA, "small.png", "image/png", 5000)
	if code, body := postObject(t, s2, testPNG(t, 4, 4)); code != http.StatusNoContent {
		t.Fatalf("S3: %d %s", code, body)
	}
	if f := w.waitChecked(w.empA, s2.id()); f["status"] != "rejected" || !strings.Contains(fmt.Sprint(f["reason"]), "declared") {
		t.Errorf("file = %v", f)
	}
}

func TestFileExpiredPolicyRefused(t *testing.T) {
	w := newWorld(t)
	s := w.startUpload(w.empA, "ticket/"+w.ticketA, "late.png", "image/png", 100)
	// The same policy, signed by a presigner whose clock says it is ten
	// minutes ago: it expired five minutes ago.
	past := fixedClock(time.Now().Add(-10 * time.Minute))
	signer := objects.New(w.cloud.S3Client(), w.cloud.Bucket(), objects.WithClock(past), objects.WithUploadTTL(5*time.Minute))
	up, err := signer.PresignUpload(context.Background(), s.key(), "image/png", 100)
	if err != nil {
		t.Fatal(err)
	}
	if !up.ExpiresAt.Before(time.Now()) {
		t.Fatalf("policy expires at %v", up.ExpiresAt)
	}
	s.Upload.URL, s.Upload.Fields = up.URL, up.Fields
	code, body := postObject(t, s, bytes.Repeat([]byte{0x89}, 100))
	t.Logf("S3 answered %d %s", code, body)
	if code != http.StatusForbidden && code != http.StatusBadRequest || !strings.Contains(strings.ToLower(body), "expired") {
		t.Fatalf("S3 answered %d %s, want a refusal of an expired policy", code, body)
	}
	if objectExists(t, w.cloud, s.key()) {
		t.Errorf("the refused object exists")
	}
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c).UTC() }

func TestFileOtherDepartmentGets404(t *testing.T) {
	w := newWorld(t)
	id := w.availableFile()
	comment := w.upload(w.empA, "comment/"+w.commentA, "log.txt", "text/plain", []byte("error at line 3\n"))
	w.waitChecked(w.empA, comment.id())
	for _, token := range []string{w.empB, w.headB} {
		for _, path := range []string{
			"/api/files/" + id, "/api/files/" + id + "/download", "/api/files/ticket/" + w.ticketA,
			"/api/files/" + comment.id(), "/api/files/comment/" + w.commentA, "/api/files/task/" + w.taskA,
		} {
			if r := w.c.as(token).do("GET", path, nil); r.Status != 404 {
				t.Errorf("GET %s from department B: %d %s", path, r.Status, r.Body)
			}
		}
		if r := w.c.as(token).do("DELETE", "/api/files/"+id, nil); r.Status != 404 {
			t.Errorf("DELETE from department B: %d", r.Status)
		}
		r := w.c.as(token).do("POST", "/api/files/ticket/"+w.ticketA, map[string]any{"fileName": "x.txt", "contentType": "text/plain", "size": 1})
		want(t, r, 404, "upload from department B")
	}
	// The comment's files are listed on the comment, and its task's readers see them.
	l := decode[[]map[string]any](t, w.c.as(w.headA).do("GET", "/api/files/comment/"+w.commentA, nil))
	if len(l) != 1 || l[0]["id"] != comment.id() || l[0]["comment_id"] != w.commentA || l[0]["status"] != "available" {
		t.Errorf("comment files = %v", l)
	}
}

func TestFileDeleteParentTicketLeavesNothing(t *testing.T) {
	w := newWorld(t)
	ticket := w.ticket(w.headA, w.deptA)
	direct := w.upload(w.empA, "ticket/"+ticket, "a.pdf", "application/pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"))
	r := w.c.as(w.empA).do("POST", "/api/tickets/"+ticket+"/comments", map[string]any{"content": "See the log"})
	want(t, r, 201, "comment on the ticket")
	commentID := r.obj(t)["id"].(string)
	onComment := w.upload(w.empA, "comment/"+commentID, "b.csv", "text/csv", []byte("a,b\n1,2\n"))
	pending := w.startUpload(w.empA, "ticket/"+ticket, "c.txt", "text/plain", 3)
	for _, s := range []started{direct, onComment} {
		if f := w.waitChecked(w.empA, s.id()); f["status"] != "available" {
			t.Fatalf("file = %v", f)
		}
	}
	want(t, w.c.as(w.admin).do("DELETE", "/api/tickets/"+ticket, nil), 200, "delete the ticket")
	for _, s := range []started{direct, onComment, pending} {
		eventually(t, "file "+s.id()+" is gone", func() bool {
			_, err := w.store.GetFile(context.Background(), s.id())
			return deskline.ErrorCode(err) == deskline.ENOTFOUND
		})
		if r := w.c.as(w.admin).do("GET", "/api/files/"+s.id(), nil); r.Status != 404 {
			t.Errorf("GET a cascaded file: %d", r.Status)
		}
		eventually(t, "object of "+s.id()+" is gone", func() bool { return !objectExists(t, w.cloud, s.key()) })
	}
	// No item of any kind is left in the ticket's partition.
	eventually(t, "the ticket's partition is empty", func() bool { return partitionSize(t, w, "TICKET#"+ticket) == 0 })
	// An upload that arrives after the cascade is dropped.
	if code, _ := postObject(t, pending, []byte("hey")); code != http.StatusNoContent {
		t.Fatalf("late upload: %d", code)
	}
	eventually(t, "the late object is deleted", func() bool { return !objectExists(t, w.cloud, pending.key()) })
}

// partitionSize counts the items of a partition, aliases of files included.
func partitionSize(t testing.TB, w *world, pk string) int {
	t.Helper()
	out, err := dynamo.LocalClient(w.cloud.DynamoDBEndpoint).Query(context.Background(), &dynamodb.QueryInput{
		TableName:                 aws.String(w.store.Table()),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return int(out.Count)
}

func TestFileDeleteCommentAndFile(t *testing.T) {
	w := newWorld(t)
	comment := w.comment(w.empA, w.taskA)
	s := w.upload(w.empA, "comment/"+comment, "notes.json", "application/json", []byte(`{"ok":true}`))
	w.waitChecked(w.empA, s.id())
	want(t, w.c.as(w.empA).do("DELETE", "/api/comments/"+comment, nil), 200, "delete the comment")
	eventually(t, "the comment's file is gone", func() bool {
		return w.c.as(w.empA).do("GET", "/api/files/"+s.id(), nil).Status == 404
	})
	eventually(t, "the comment's object is gone", func() bool { return !objectExists(t, w.cloud, s.key()) })
	if _, err := w.store.GetFile(context.Background(), s.id()); deskline.ErrorCode(err) != deskline.ENOTFOUND {
		t.Errorf("GetFile after the comment's delete: %v", err)
	}

	// Delete a file: the uploader and admins only.
	f := w.upload(w.empA, "task/"+w.taskA, "plan.txt", "text/plain", []byte("step 1\n"))
	w.waitChecked(w.empA, f.id())
	r := w.c.as(w.headA).do("DELETE", "/api/files/"+f.id(), nil)
	want(t, r, 403, "delete another's file as head")
	r = w.c.as(w.empA).do("DELETE", "/api/files/"+f.id(), nil)
	want(t, r, 200, "delete own file")
	if objectExists(t, w.cloud, f.key()) {
		t.Errorf("the deleted file's object exists")
	}
	want(t, w.c.as(w.empA).do("GET", "/api/files/"+f.id(), nil), 404, "get a deleted file")
	want(t, w.c.as(w.empA).do("DELETE", "/api/files/"+f.id(), nil), 404, "delete it again")
}

func TestFileUploadValidation(t *testing.T) {
	w := newWorld(t)
	pending := w.pendingFile(w.empA, "ticket/"+w.ticketA)
	want(t, w.c.as(w.empA).do("GET", "/api/files/"+pending+"/download", nil), 409, "download a pending file")
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"contentType": "image/png", "size": 10}, "fileName"},
		{map[string]any{"fileName": "../etc/passwd", "contentType": "text/plain", "size": 10}, "fileName"},
		{map[string]any{"fileName": `C:\x.txt`, "contentType": "text/plain", "size": 10}, "fileName"},
		{map[string]any{"fileName": "a\nb.txt", "contentType": "text/plain", "size": 10}, "fileName"},
		{map[string]any{"fileName": strings.Repeat("é", 256), "contentType": "text/plain", "size": 10}, "fileName"},
		{map[string]any{"fileName": "x.exe", "contentType": "application/x-msdownload", "size": 10}, "contentType"},
		{map[string]any{"fileName": "x.html", "contentType": "text/html", "size": 10}, "contentType"},
		{map[string]any{"fileName": "x.txt", "contentType": "text/plain", "size": 0}, "size"},
		{map[string]any{"fileName": "x.txt", "contentType": "text/plain"}, "size"},
		{map[string]any{"fileName": "x.txt", "contentType": "text/plain", "size": 1, "path": "/tmp"}, "path"},
	} {
		r := w.c.as(w.empA).do("POST", "/api/files/ticket/"+w.ticketA, tc.body)
		if r.Status != 400 || r.obj(t)["field"] != tc.field {
			t.Errorf("%v: %d %s, want 400 on %s", tc.body, r.Status, r.Body, tc.field)
		}
	}
	// Allowed, with parameters and any case: stored canonical.
	r := w.c.as(w.empA).do("POST", "/api/files/task/"+w.taskA, map[string]any{"fileName": "Report Q3.xlsx", "contentType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "size": 12345})
	want(t, r, 201, "upload an xlsx")
	r = w.c.as(w.empA).do("POST", "/api/files/task/"+w.taskA, map[string]any{"fileName": "notes.txt", "contentType": "Text/Plain; charset=utf-8", "size": 12})
	want(t, r, 201, "upload text with a charset")
	if got := decode[started](t, r); got.File["file_type"] != "text/plain" || got.Upload.Fields["Content-Type"] != "text/plain" {
		t.Errorf("file type %v, field %q", got.File["file_type"], got.Upload.Fields["Content-Type"])
	}
	for _, path := range []string{"/api/files/ticket/TKT-NOPE0", "/api/files/task/TSK-NOPE0", "/api/files/comment/CMT-NOPE0"} {
		r := w.c.as(w.admin).do("POST", path, map[string]any{"fileName": "x.txt", "contentType": "text/plain", "size": 1})
		want(t, r, 404, "upload to an unknown parent "+path)
	}
	want(t, w.c.as(w.admin).do("GET", "/api/files/FIL-NOPE0", nil), 404, "unknown file")
}

func TestUnexpectedObjectsAreDeleted(t *testing.T) {
	w := newWorld(t)
	c := w.cloud.S3Client()
	// PUTs are announced with a key and an "s3:" prefix the receiver drops;
	// keys reach the validator URL-encoded, as S3 sends them.
	for _, key := range []string{"stray/object.bin", "stray/with space+plus&é.bin", objects.NewKey("FIL-01JB0000000000000000000000")} {
		_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(w.cloud.Bucket()), Key: aws.String(key), Body: strings.NewReader("hello")})
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, key+" is deleted", func() bool { return !objectExists(t, w.cloud, key) })
	}
	// An object under a real pending file's id but another key is deleted,
	// and the file stays pending.
	s := w.startUpload(w.empA, "ticket/"+w.ticketA, "x.txt", "text/plain", 5)
	other := objects.NewKey(s.id())
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(w.cloud.Bucket()), Key: aws.String(other), Body: strings.NewReader("hello"), ContentType: aws.String("text/plain")}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the guessed key is deleted", func() bool { return !objectExists(t, w.cloud, other) })
	if f := w.c.as(w.empA).do("GET", "/api/files/"+s.id(), nil).obj(t); f["status"] != "pending" {
		t.Errorf("file = %v", f)
	}
}

// BenchmarkUploadToAvailable measures the time from the end of an upload
// (S3's answer to the presigned POST) to the file reading available, through
// the local cloud and versitygw. Run with -benchtime 50x for p50 over 50.
func BenchmarkUploadToAvailable(b *testing.B) {
	w := newWorld(b)
	img := testPNG(b, 32, 32)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		s := w.startUpload(w.empA, "ticket/"+w.ticketA, "bench.png", "image/png", len(img))
		b.StartTimer()
		if code, body := postObject(b, s, img); code != http.StatusNoContent {
			b.Fatalf("S3: %d %s", code, body)
		}
		done := time.Now()
		for {
			rec, err := w.store.GetFile(context.Background(), s.id())
			if err != nil {
				b.Fatal(err)
			}
			if rec.File.Status == deskline.FileAvailable {
				break
			}
			if rec.File.Status != deskline.FilePending || time.Since(done) > 15*time.Second {
				b.Fatalf("file %s: %s %s", s.id(), rec.File.Status, rec.File.Reason)
			}
			time.Sleep(time.Millisecond)
		}
		lat = append(lat, time.Since(done))
	}
	b.StopTimer()
	slices.Sort(lat)
	ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}
