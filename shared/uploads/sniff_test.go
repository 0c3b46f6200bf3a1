package uploads_test

import (
	"archive/zip"
	"bytes"
	"image"
	"image/png"
	"strings"
	"testing"

	"github.com/deskline/deskline/shared/uploads"
)

func pngBytes(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 3, 3))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// zipWith makes a ZIP archive holding the named entries, in order.
func zipWith(t *testing.T, names ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(strings.Repeat("<x/>", 50)))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const (
	docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

func TestCheck(t *testing.T) {
	elf := append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 200)...)
	mz := append([]byte("MZ\x90\x00\x03"), make([]byte, 200)...)
	ole := append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 200)...)
	word := zipWith(t, "[Content_Types].xml", "_rels/.rels", "word/document.xml")
	for _, tc := range []struct {
		name     string
		declared string
		content  []byte
		ok       bool
	}{
		{"png", "image/png", pngBytes(t), true},
		{"png declared jpeg", "image/jpeg", pngBytes(t), false},
		{"elf declared png", "image/png", elf, false},
		{"exe declared pdf", "application/pdf", mz, false},
		{"gif", "image/gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), true},
		{"webp", "image/webp", []byte("RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00"), true},
		{"jpeg", "image/jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), true},
		{"pdf", "application/pdf", []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"), true},
		{"text", "text/plain", []byte("hello, world\nsecond line é\n"), true},
		{"csv", "text/csv", []byte("name,count\nA,1\n"), true},
		{"html as text", "text/plain", []byte("<html><script>alert(1)</script></html>"), false},
		{"binary as text", "text/plain", []byte("abc\x00def"), false},
		{"latin-1 as text", "text/plain", []byte("caf\xe9 au lait"), false},
		{"elf as csv", "text/csv", elf, false},
		{"json", "application/json", []byte(" {\"a\": [1, 2]}"), true},
		{"json array", "application/json", []byte("[1,2]"), true},
		{"text as json", "application/json", []byte("hello"), false},
		{"zip", "application/zip", zipWith(t, "a.txt"), true},
		{"exe as zip", "application/zip", mz, false},
		{"docx", docx, word, true},
		{"docx declared xlsx", xlsx, word, false},
		{"plain zip as docx", docx, zipWith(t, "a.txt"), false},
		{"xlsx", xlsx, zipWith(t, "[Content_Types].xml", "_rels/.rels", "xl/workbook.xml"), true},
		{"doc", "application/msword", ole, true},
		{"zip as doc", "application/msword", word, false},
		{"not allowed", "application/x-msdownload", mz, false},
	} {
		reason := uploads.Check(tc.declared, tc.content, true)
		if (reason == "") != tc.ok {
			t.Errorf("%s: Check(%s) = %q, want ok=%v", tc.name, tc.declared, reason, tc.ok)
		}
	}
}

func TestCheckPartialText(t *testing.T) {
	// A head cut inside a multi-byte character is still text.
	text := []byte(strings.Repeat("é", 10))
	if r := uploads.Check("text/plain", text[:5], false); r != "" {
		t.Errorf("partial head: %q", r)
	}
	if r := uploads.Check("text/plain", text[:5], true); r == "" {
		t.Errorf("a whole file ending inside a character passed")
	}
}
