// Package uploads is the upload validator: the function S3 invokes on every
// ObjectCreated in the attachments bucket. It checks each new object
// against the pending attachment it was uploaded for (real size, content
// type sniffed from the first bytes) and marks the attachment available, or
// rejected with its object deleted. An object no attachment expects is
// deleted.
package uploads

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/deskline/deskline/shared/deskline"
)

// SniffBytes is how much of an object the validator reads to check its type.
const SniffBytes = 64 << 10

var (
	zipMagic = []byte("PK\x03\x04")
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
)

// Check reports why the first bytes of a file (head; the whole file when it
// is shorter than SniffBytes, whole says so) do not fit its declared,
// allowed content type, or "" when they do. The type is sniffed with
// net/http.DetectContentType plus small magic checks for what it does not
// tell apart (Office documents, JSON).
func Check(declared string, head []byte, whole bool) string {
	kind, ok := deskline.AllowedFileTypes[declared]
	if !ok {
		return fmt.Sprintf("type %s is not allowed", declared)
	}
	sniffed, _, _ := strings.Cut(http.DetectContentType(head), ";")
	mismatch := func() string {
		return fmt.Sprintf("content looks like %s, not %s", sniffed, declared)
	}
	switch kind {
	case deskline.KindImage:
		if sniffed != declared {
			return mismatch()
		}
	case deskline.KindPDF:
		if !bytes.HasPrefix(head, []byte("%PDF-")) {
			return mismatch()
		}
	case deskline.KindZIP:
		if !bytes.HasPrefix(head, zipMagic) && !(whole && bytes.HasPrefix(head, []byte("PK\x05\x06"))) {
			return mismatch()
		}
	case deskline.KindOOXML:
		// An Office Open XML document is a ZIP archive whose first entries
		// are [Content_Types].xml and the main part's folder; entry names
		// are stored uncompressed, so they show in the first bytes.
		part := deskline.OOXMLPart(declared)
		if !bytes.HasPrefix(head, zipMagic) || !bytes.Contains(head, []byte("[Content_Types].xml")) || !bytes.Contains(head, []byte(part)) {
			return fmt.Sprintf("content is not an Office document of type %s", declared)
		}
	case deskline.KindOLE:
		if !bytes.HasPrefix(head, oleMagic) {
			return fmt.Sprintf("content is not a legacy Office document (%s)", sniffed)
		}
	case deskline.KindText, deskline.KindJSON:
		if reason := checkText(head, whole); reason != "" {
			return reason
		}
		if sniffed != "text/plain" {
			return mismatch()
		}
		if kind == deskline.KindJSON {
			b := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
			if len(b) == 0 || !strings.ContainsRune(`{["-0123456789tfn`, rune(b[0])) {
				return "content is not JSON"
			}
		}
	default:
		return fmt.Sprintf("type %s is not allowed", declared)
	}
	return ""
}

// checkText accepts UTF-8 text without NUL bytes. A rune cut at the end of
// a partial head is fine.
func checkText(head []byte, whole bool) string {
	if bytes.IndexByte(head, 0) >= 0 {
		return "content is binary, not text"
	}
	b := head
	if !whole {
		// Drop a possibly incomplete final rune.
		for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
			r, size := utf8.DecodeLastRune(b)
			if r != utf8.RuneError || size != 1 {
				break
			}
			b = b[:len(b)-1]
		}
	}
	if !utf8.Valid(b) {
		return "content is not UTF-8 text"
	}
	return ""
}
