package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/httpapi"
	"github.com/deskline/deskline/shared/objects"
)

// FileObjects is what the file routes need of the attachments bucket. The
// bytes never pass through a handler: uploads and downloads are presigned
// requests the client sends straight to S3.
type FileObjects interface {
	PresignUpload(ctx context.Context, key, contentType string, maxSize int64) (*objects.Upload, error)
	PresignDownload(ctx context.Context, key, fileName, contentType string) (string, time.Time, error)
	Delete(ctx context.Context, key string) error
}

var (
	errFileNotFound = deskline.Errorf(deskline.ENOTFOUND, "File not found")
	errNoBucket     = errors.New("no attachments bucket is configured")
)

// fileView is a file's metadata with its uploader.
type fileView struct {
	*deskline.File
	Uploader *personRef `json:"uploader"`
}

type fileRequest struct {
	FileName    *string `json:"fileName"`
	ContentType *string `json:"contentType"`
	Size        *int64  `json:"size"`
}

// newFile validates an upload request into a pending file of the caller.
func (s *Server) newFile(r *httpapi.Request) (*deskline.File, error) {
	var in fileRequest
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	switch {
	case in.FileName == nil:
		return nil, deskline.Invalid("fileName", "fileName is required")
	case in.ContentType == nil:
		return nil, deskline.Invalid("contentType", "contentType is required")
	case in.Size == nil:
		return nil, deskline.Invalid("size", "size is required")
	}
	if err := deskline.ValidateFileName(*in.FileName); err != nil {
		return nil, err
	}
	typ, _, err := deskline.NormalizeFileType(*in.ContentType)
	if err != nil {
		return nil, err
	}
	if err := deskline.ValidateFileSize(*in.Size); err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	return &deskline.File{
		ID: s.IDs.NewID(deskline.PrefixFile), FileName: *in.FileName, FileType: typ, FileSize: *in.Size,
		UploadedBy: r.Principal.UserID, Status: deskline.FilePending, CreatedAt: now, UpdatedAt: now,
	}, nil
}

// upload writes a pending file and answers with its presigned upload.
func (s *Server) upload(ctx context.Context, r *httpapi.Request, f *deskline.File, t dynamo.FileTarget) (*httpapi.Response, error) {
	if s.Objects == nil {
		return nil, errNoBucket
	}
	key := objects.NewKey(f.ID)
	up, err := s.Objects.PresignUpload(ctx, key, f.FileType, f.FileSize)
	if err != nil {
		return nil, err
	}
	if err := s.Store.CreateFile(ctx, f, key, t, up.ExpiresAt); err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusCreated, map[string]any{
		"file":   fileView{File: f, Uploader: refPrincipal(r.Principal)},
		"upload": up,
	}), nil
}

// loadTicketParam finds the ticket named by path parameter ticketId (an id
// or a key), hidden from callers who may not read it.
func (s *Server) loadTicketParam(ctx context.Context, r *httpapi.Request) (*deskline.Ticket, error) {
	id, err := s.ticketID(ctx, r.Param("ticketId"))
	if err != nil {
		return nil, err
	}
	t, err := s.Store.GetTicket(ctx, id)
	if err != nil {
		return nil, err
	}
	if !r.Principal.CanReadTicket(t) {
		return nil, errTicketNotFound
	}
	return t, nil
}

// UploadTicketFile starts an upload to a ticket the caller may read.
func (s *Server) UploadTicketFile(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	f, err := s.newFile(r)
	if err != nil {
		return nil, err
	}
	t, err := s.loadTicketParam(ctx, r)
	if err != nil {
		return nil, err
	}
	f.TicketID = t.ID
	return s.upload(ctx, r, f, dynamo.FileTarget{EntityType: dynamo.TypeTicket, EntityID: t.ID})
}

// UploadTaskFile starts an upload to a task the caller may read.
func (s *Server) UploadTaskFile(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	f, err := s.newFile(r)
	if err != nil {
		return nil, err
	}
	t, err := s.loadTask(ctx, r, "taskId")
	if err != nil {
		return nil, err
	}
	f.TaskID = t.ID
	return s.upload(ctx, r, f, dynamo.FileTarget{EntityType: dynamo.TypeTask, EntityID: t.ID})
}

// UploadCommentFile starts an upload to a comment the caller may read.
func (s *Server) UploadCommentFile(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	f, err := s.newFile(r)
	if err != nil {
		return nil, err
	}
	c, _, err := s.loadComment(ctx, r, "commentId")
	if err != nil {
		return nil, err
	}
	f.CommentID = c.ID
	t := dynamo.FileTarget{EntityType: dynamo.TypeTask, EntityID: c.TaskID, CommentID: c.ID}
	if c.TicketID != "" {
		t.EntityType, t.EntityID = dynamo.TypeTicket, c.TicketID
	}
	return s.upload(ctx, r, f, t)
}

// loadFile finds the file named in the path, hidden from callers who may not
// read its ticket or task.
func (s *Server) loadFile(ctx context.Context, r *httpapi.Request) (*dynamo.FileRecord, error) {
	id := r.Param("id")
	if !deskline.ValidID(deskline.PrefixFile, id) {
		return nil, errFileNotFound
	}
	rec, err := s.Store.GetFile(ctx, id)
	if err != nil {
		return nil, err
	}
	if !canRead(r.Principal, rec.Parent) {
		return nil, errFileNotFound
	}
	return rec, nil
}

// GetFile returns a file's metadata, status and uploader.
func (s *Server) GetFile(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	rec, err := s.loadFile(ctx, r)
	if err != nil {
		return nil, err
	}
	people, err := s.Store.GetPeople(ctx, []string{rec.File.UploadedBy}, nil)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, fileView{File: rec.File, Uploader: refUser(people, rec.File.UploadedBy)}), nil
}

// DownloadFile redirects to a presigned GET of an available file, valid for
// five minutes: 409 while the file is being checked, 410 once rejected.
func (s *Server) DownloadFile(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	rec, err := s.loadFile(ctx, r)
	if err != nil {
		return nil, err
	}
	switch rec.File.Status {
	case deskline.FilePending:
		return nil, deskline.Errorf(deskline.ECONFLICT, "The file has not been uploaded and checked yet")
	case deskline.FileRejected:
		return nil, deskline.Errorf(deskline.EGONE, "The file was rejected: %s", rec.File.Reason)
	}
	if s.Objects == nil {
		return nil, errNoBucket
	}
	url, expires, err := s.Objects.PresignDownload(ctx, rec.ObjectKey, rec.File.FileName, rec.File.FileType)
	if err != nil {
		return nil, err
	}
	resp := httpapi.JSON(http.StatusFound, map[string]any{"url": url, "expiresAt": expires})
	resp.Headers = map[string]string{"Location": url, "Access-Control-Expose-Headers": "Location"}
	return resp, nil
}

// listFiles lists a readable parent's files with their uploaders.
func (s *Server) listFiles(ctx context.Context, r *httpapi.Request, p dynamo.FileParent) (*httpapi.Response, error) {
	pg, err := r.Paging(defaultPageSize, maxPageSize)
	if err != nil {
		return nil, err
	}
	page, err := s.Store.ListFiles(ctx, p, pg.Limit, pg.Cursor)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, f := range page.Items {
		ids = append(ids, f.UploadedBy)
	}
	people, err := s.Store.GetPeople(ctx, ids, nil)
	if err != nil {
		return nil, err
	}
	views := make([]fileView, len(page.Items))
	for i, f := range page.Items {
		views[i] = fileView{File: f, Uploader: refUser(people, f.UploadedBy)}
	}
	return httpapi.List(views, page.NextCursor), nil
}

// ListTicketFiles lists a ticket's own files, newest first.
func (s *Server) ListTicketFiles(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t, err := s.loadTicketParam(ctx, r)
	if err != nil {
		return nil, err
	}
	return s.listFiles(ctx, r, dynamo.FileParent{Parent: dynamo.Parent{Ticket: t}})
}

// ListTaskFiles lists a task's own files, newest first.
func (s *Server) ListTaskFiles(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t, err := s.loadTask(ctx, r, "taskId")
	if err != nil {
		return nil, err
	}
	return s.listFiles(ctx, r, dynamo.FileParent{Parent: dynamo.Parent{Task: t}})
}

// ListCommentFiles lists a comment's files, newest first.
func (s *Server) ListCommentFiles(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	c, parent, err := s.loadComment(ctx, r, "commentId")
	if err != nil {
		return nil, err
	}
	return s.listFiles(ctx, r, dynamo.FileParent{Parent: parent, CommentID: c.ID})
}

// DeleteFile deletes a file and its object (its uploader or an admin).
func (s *Server) DeleteFile(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	rec, err := s.loadFile(ctx, r)
	if err != nil {
		return nil, err
	}
	if !r.Principal.CanDeleteFile(rec.File) {
		return nil, deskline.Errorf(deskline.EFORBIDDEN, "Not authorized to delete this file")
	}
	if err := s.Store.DeleteFile(ctx, rec); err != nil {
		return nil, err
	}
	// The stream projector deletes the object too when it sees the item go,
	// so a failure here leaves nothing behind for long.
	if s.Objects != nil {
		if err := s.Objects.Delete(ctx, rec.ObjectKey); err != nil {
			s.Log.WarnContext(ctx, "delete file object", slog.String("fileId", rec.File.ID), slog.String("error", err.Error()))
		}
	}
	return httpapi.Message(http.StatusOK, "File deleted successfully"), nil
}
