package export

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestXLSXTemporaryFile: a sheet past excelize's 16 MiB in memory goes to a
// temporary file, which is gone after Close and after Discard (an export
// cut short); the finished file reads back with every row.
func TestXLSXTemporaryFile(t *testing.T) {
	const rows = 30_000
	text := strings.Repeat("楼道堆放杂物影响通行", 20) // 600 bytes: 18 MB of sheet
	for _, finish := range []bool{true, false} {
		dir := t.TempDir()
		t.Setenv("TMPDIR", dir)
		var out bytes.Buffer
		w, err := New(XLSX, &out, "事件")
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Header([]string{"编号", "描述"}); err != nil {
			t.Fatal(err)
		}
		for i := range rows {
			if err := w.Row([]Cell{Int(i), Text(text)}); err != nil {
				t.Fatal(err)
			}
		}
		if tmp, _ := os.ReadDir(dir); len(tmp) != 1 {
			t.Fatalf("%d temporary files while writing, want 1", len(tmp))
		}
		if finish {
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		}
		w.Discard()
		if tmp, _ := os.ReadDir(dir); len(tmp) != 0 {
			t.Fatalf("finished %v: %d temporary files left", finish, len(tmp))
		}
		if !finish {
			if out.Len() != 0 {
				t.Fatalf("a discarded file wrote %d bytes", out.Len())
			}
			continue
		}
		f, err := excelize.OpenReader(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.GetRows("事件")
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != rows+1 || got[0][1] != "描述" || got[rows][0] != "29999" || got[rows][1] != text {
			t.Fatalf("%d rows read back; last %v", len(got), got[len(got)-1][:1])
		}
	}
}

// TestNeutralise: formula lead characters get an apostrophe, in CSV and
// XLSX alike (the XLSX side is read back in api/exports_test.go).
func TestNeutralise(t *testing.T) {
	var out bytes.Buffer
	w := newCSV(&out)
	if err := w.Row([]Cell{Text(`=HYPERLINK("x")`), Text("+1"), Text("-2"), Text("@a"), Text("ok"), Number(-2.5)}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(&out)
	if want := "\"'=HYPERLINK(\"\"x\"\")\",'+1,'-2,'@a,ok,-2.5\r\n"; string(b) != want {
		t.Fatalf("%q, want %q", b, want)
	}
}
