package xlsx_test

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"testing"

	"github.com/deskline/deskline/shared/uploads"
	"github.com/deskline/deskline/shared/xlsx"
)

// cell is a worksheet cell as read back.
type cell struct {
	Ref    string `xml:"r,attr"`
	Type   string `xml:"t,attr"`
	Style  string `xml:"s,attr"`
	Value  string `xml:"v"`
	Inline string `xml:"is>t"`
}

func readSheet(t *testing.T, b []byte) (names []string, rows [][]cell) {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	var sheet []byte
	for _, f := range z.File {
		names = append(names, f.Name)
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		var any struct{ XMLName xml.Name }
		if err := xml.Unmarshal(body, &any); err != nil {
			t.Errorf("%s is not well-formed XML: %v", f.Name, err)
		}
		if f.Name == "xl/worksheets/sheet1.xml" {
			sheet = body
		}
	}
	var ws struct {
		Rows []struct {
			Cells []cell `xml:"c"`
		} `xml:"sheetData>row"`
	}
	if err := xml.Unmarshal(sheet, &ws); err != nil {
		t.Fatalf("sheet: %v", err)
	}
	for _, r := range ws.Rows {
		rows = append(rows, r.Cells)
	}
	return names, rows
}

func TestWrite(t *testing.T) {
	header := []string{"date", "departmentId", "totalTasks", "note"}
	rows := [][]string{
		{"2025-03-03", "DEP-1", "12", "a <b> & \"c\""},
		{"2025-03-04", "DEP-1", "0.25", "NaN"},
		{"2025-03-05", "DEP-1", "-3", "line\nbreak\x01"},
	}
	var b bytes.Buffer
	if err := xlsx.Write(&b, "Metrics: DEP/1", header, rows); err != nil {
		t.Fatal(err)
	}
	names, got := readSheet(t, b.Bytes())
	if len(names) == 0 || names[0] != "[Content_Types].xml" {
		t.Errorf("entries %v, want [Content_Types].xml first", names)
	}
	if reason := uploads.Check(xlsx.ContentType, b.Bytes(), true); reason != "" {
		t.Errorf("the upload validator refuses the workbook: %s", reason)
	}
	if len(got) != 4 {
		t.Fatalf("%d rows, want 4", len(got))
	}
	want := [][]cell{
		{{Ref: "A1", Type: "inlineStr", Style: "1", Inline: "date"}, {Ref: "B1", Type: "inlineStr", Style: "1", Inline: "departmentId"},
			{Ref: "C1", Type: "inlineStr", Style: "1", Inline: "totalTasks"}, {Ref: "D1", Type: "inlineStr", Style: "1", Inline: "note"}},
		{{Ref: "A2", Type: "inlineStr", Inline: "2025-03-03"}, {Ref: "B2", Type: "inlineStr", Inline: "DEP-1"},
			{Ref: "C2", Value: "12"}, {Ref: "D2", Type: "inlineStr", Inline: `a <b> & "c"`}},
		{{Ref: "A3", Type: "inlineStr", Inline: "2025-03-04"}, {Ref: "B3", Type: "inlineStr", Inline: "DEP-1"},
			{Ref: "C3", Value: "0.25"}, {Ref: "D3", Type: "inlineStr", Inline: "NaN"}},
		{{Ref: "A4", Type: "inlineStr", Inline: "2025-03-05"}, {Ref: "B4", Type: "inlineStr", Inline: "DEP-1"},
			{Ref: "C4", Value: "-3"}, {Ref: "D4", Type: "inlineStr", Inline: "line\nbreak"}},
	}
	for i := range want {
		for j := range want[i] {
			if j >= len(got[i]) || got[i][j] != want[i][j] {
				t.Errorf("row %d cell %d = %+v, want %+v", i+1, j, got[i], want[i][j])
				break
			}
		}
	}

	// The same data is the same file.
	var again bytes.Buffer
	if err := xlsx.Write(&again, "Metrics: DEP/1", header, rows); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), again.Bytes()) {
		t.Error("two writes of the same data differ")
	}
}

func TestColumnsPastZ(t *testing.T) {
	header := make([]string, 30)
	for i := range header {
		header[i] = "h"
	}
	var b bytes.Buffer
	if err := xlsx.Write(&b, "", header, nil); err != nil {
		t.Fatal(err)
	}
	_, rows := readSheet(t, b.Bytes())
	refs := map[int]string{0: "A1", 25: "Z1", 26: "AA1", 29: "AD1"}
	for i, want := range refs {
		if got := rows[0][i].Ref; got != want {
			t.Errorf("column %d = %s, want %s", i, got, want)
		}
	}
}
