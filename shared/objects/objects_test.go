package objects_test

import (
	"strings"
	"testing"

	"github.com/deskline/deskline/shared/objects"
)

func TestKeys(t *testing.T) {
	id := "FIL-01JB0000000000000000000000"
	a, b := objects.NewKey(id), objects.NewKey(id)
	if a == b || !strings.HasPrefix(a, "files/"+id+"/") {
		t.Fatalf("keys %q, %q", a, b)
	}
	if got, ok := objects.FileIDFromKey(a); !ok || got != id {
		t.Errorf("FileIDFromKey(%q) = %q, %v", a, got, ok)
	}
	for _, bad := range []string{"", "files/", "files/" + id, "files/" + id + "/short", "other/" + id + "/0123456789abcdef0123456789abcdef",
		"files/USR-01JB0000000000000000000000/0123456789abcdef0123456789abcdef", "files/" + id + "/0123456789abcdef0123456789abcdeg"} {
		if _, ok := objects.FileIDFromKey(bad); ok {
			t.Errorf("FileIDFromKey(%q) accepted it", bad)
		}
	}
}

func TestContentDisposition(t *testing.T) {
	for name, want := range map[string]string{
		"report.pdf":           `attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`,
		`a"b;c\d%.txt`:         `attachment; filename="a_b_c_d_.txt"; filename*=UTF-8''a%22b%3Bc%5Cd%25.txt`,
		"résumé.pdf":           `attachment; filename="r_sum_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`,
		"日本.txt":               `attachment; filename="__.txt"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt`,
		"😀":                    `attachment; filename="download"; filename*=UTF-8''%F0%9F%98%80`,
		"x\r\nSet-Cookie: a=b": `attachment; filename="x__Set-Cookie: a=b"; filename*=UTF-8''x%0D%0ASet-Cookie%3A%20a%3Db`,
	} {
		if got := objects.ContentDisposition(name); got != want {
			t.Errorf("ContentDisposition(%q) =\n %s\nwant\n %s", name, got, want)
		}
	}
}
