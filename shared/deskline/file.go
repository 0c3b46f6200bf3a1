package deskline

import (
	"mime"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// PrefixFile is the id prefix of file attachments.
const PrefixFile = "FIL"

// File limits.
const (
	MaxFileSize    = 10 * 1024 * 1024 // bytes
	MaxFileNameLen = 255              // characters
)

// FileStatus is where an attachment is in its life: pending until its upload
// has been checked, then available or rejected.
type FileStatus string

// File statuses.
const (
	FilePending   FileStatus = "pending"
	FileAvailable FileStatus = "available"
	FileRejected  FileStatus = "rejected"
)

// File is an attachment's metadata: the contract's snake_case fields. It
// never holds where the bytes are stored.
type File struct {
	ID         string     `json:"id"`
	TicketID   string     `json:"ticket_id,omitempty"`
	TaskID     string     `json:"task_id,omitempty"`
	CommentID  string     `json:"comment_id,omitempty"`
	FileName   string     `json:"file_name"`
	FileType   string     `json:"file_type"`
	FileSize   int64      `json:"file_size"`
	UploadedBy string     `json:"uploaded_by"`
	Status     FileStatus `json:"status"`
	// Reason says why a file was rejected.
	Reason    string    `json:"reason,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
}

// FileKind groups the allowed content types by how their bytes are checked.
type FileKind int

// File kinds.
const (
	kindUnknown FileKind = iota
	KindImage            // sniffed type must equal the declared one
	KindPDF              // %PDF-
	KindText             // UTF-8 text (plain, CSV)
	KindJSON             // UTF-8 text starting like a JSON value
	KindZIP              // a ZIP archive
	KindOOXML            // a ZIP archive holding an Office Open XML document
	KindOLE              // a legacy Office (OLE2 compound) document
)

const ooxmlMIMEStart = "application/vnd.openxmlformats-officedocument."

// AllowedFileTypes is the allow-list of declared content types, with the kind
// of check each one's bytes get after upload. See docs/files.md.
var AllowedFileTypes = map[string]FileKind{
	"image/png":        KindImage,
	"image/jpeg":       KindImage,
	"image/gif":        KindImage,
	"image/webp":       KindImage,
	"application/pdf":  KindPDF,
	"text/plain":       KindText,
	"text/csv":         KindText,
	"application/json": KindJSON,
	"application/zip":  KindZIP,
	ooxmlMIMEStart + "wordprocessingml.document":   KindOOXML, // .docx
	ooxmlMIMEStart + "spreadsheetml.sheet":         KindOOXML, // .xlsx
	ooxmlMIMEStart + "presentationml.presentation": KindOOXML, // .pptx
	"application/msword":                           KindOLE,   // .doc
	"application/vnd.ms-excel":                     KindOLE,   // .xls
	"application/vnd.ms-powerpoint":                KindOLE,   // .ppt
}

// OOXMLPart returns the top-level folder an Office Open XML document of the
// given content type keeps its main part in ("word/", "xl/", "ppt/").
func OOXMLPart(contentType string) string {
	switch strings.TrimPrefix(contentType, ooxmlMIMEStart) {
	case "wordprocessingml.document":
		return "word/"
	case "spreadsheetml.sheet":
		return "xl/"
	case "presentationml.presentation":
		return "ppt/"
	}
	return ""
}

// NormalizeFileType checks a declared content type against the allow-list and
// returns it in canonical form (lower case, no parameters) with its kind.
func NormalizeFileType(contentType string) (string, FileKind, error) {
	mt, _, err := mime.ParseMediaType(strings.TrimSpace(contentType))
	if err != nil || mt == "" {
		return "", kindUnknown, Invalid("contentType", "contentType must be a media type such as image/png")
	}
	kind, ok := AllowedFileTypes[mt]
	if !ok {
		return "", kindUnknown, Invalid("contentType", "File type "+mt+" is not allowed: images (PNG, JPEG, GIF, WebP), PDF, plain text, CSV, JSON, Office documents and ZIP are")
	}
	return mt, kind, nil
}

// ValidateFileName checks an attachment's name: 1 to MaxFileNameLen
// characters of valid UTF-8, no path separators, no control characters, not
// "." or "..". The name is kept as given (it is only ever shown and offered
// as a download name, never used as a path).
func ValidateFileName(name string) error {
	const field = "fileName"
	switch {
	case name == "":
		return Invalid(field, "fileName is required")
	case !utf8.ValidString(name):
		return Invalid(field, "fileName must be valid UTF-8")
	case utf8.RuneCountInString(name) > MaxFileNameLen:
		return Invalid(field, "fileName must be at most 255 characters")
	case strings.TrimSpace(name) == "":
		return Invalid(field, "fileName must not be blank")
	case name == "." || name == "..":
		return Invalid(field, "fileName must name a file")
	case strings.ContainsAny(name, `/\`):
		return Invalid(field, "fileName must not contain path separators")
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == '\ufeff' {
			return Invalid(field, "fileName must not contain control characters")
		}
	}
	return nil
}

// ValidateFileSize checks a declared size: 1 byte to MaxFileSize.
func ValidateFileSize(size int64) error {
	if size < 1 || size > MaxFileSize {
		return Invalid("size", "size must be from 1 byte to 10 MB (10485760 bytes)")
	}
	return nil
}

// CanDeleteFile reports whether the caller may delete an attachment they can
// see: its uploader or an admin.
func (p *Principal) CanDeleteFile(f *File) bool {
	return p.IsAdmin() || (p != nil && p.UserID == f.UploadedBy)
}
