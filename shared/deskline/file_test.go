package deskline_test

import (
	"strings"
	"testing"

	"github.com/deskline/deskline/shared/deskline"
)

func TestValidateFileName(t *testing.T) {
	for _, ok := range []string{"a.png", "Screen shot 2025-11-03 at 09.12.png", "résumé.pdf", strings.Repeat("x", 255), "naïve 😀.txt", ".profile"} {
		if err := deskline.ValidateFileName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", " ", ".", "..", "a/b.png", `a\b.png`, "../x", "a\x00b", "a\nb", "a\u2028b", "bad\xffutf8", strings.Repeat("é", 256)} {
		if err := deskline.ValidateFileName(bad); deskline.ErrorCode(err) != deskline.EINVALID {
			t.Errorf("%q: %v, want invalid", bad, err)
		}
	}
}

func TestNormalizeFileType(t *testing.T) {
	for in, want := range map[string]string{
		"image/png": "image/png", "IMAGE/PNG": "image/png", "text/plain; charset=utf-8": "text/plain",
		" application/pdf ": "application/pdf", "application/vnd.ms-excel": "application/vnd.ms-excel",
	} {
		got, _, err := deskline.NormalizeFileType(in)
		if err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "png", "text/html", "application/x-msdownload", "image/svg+xml", "application/octet-stream", "application/javascript"} {
		if _, _, err := deskline.NormalizeFileType(bad); deskline.ErrorCode(err) != deskline.EINVALID {
			t.Errorf("%q: %v, want invalid", bad, err)
		}
	}
}

func TestValidateFileSize(t *testing.T) {
	for _, n := range []int64{1, deskline.MaxFileSize} {
		if err := deskline.ValidateFileSize(n); err != nil {
			t.Errorf("%d: %v", n, err)
		}
	}
	for _, n := range []int64{0, -1, deskline.MaxFileSize + 1} {
		if err := deskline.ValidateFileSize(n); err == nil {
			t.Errorf("%d passed", n)
		}
	}
}

func TestCanDeleteFile(t *testing.T) {
	f := &deskline.File{UploadedBy: "USR-A"}
	for _, tc := range []struct {
		p    deskline.Principal
		want bool
	}{
		{deskline.Principal{UserID: "USR-A", Role: deskline.RoleEmployee}, true},
		{deskline.Principal{UserID: "USR-B", Role: deskline.RoleDepartmentHead}, false},
		{deskline.Principal{UserID: "USR-C", Role: deskline.RoleAdmin}, true},
	} {
		if got := tc.p.CanDeleteFile(f); got != tc.want {
			t.Errorf("%+v: %v", tc.p, got)
		}
	}
}
