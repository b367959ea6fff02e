package main

import (
	"bytes"
	"strings"
	"testing"
	"testing/iotest"

	"pingan/internal/export"
)

// TestRowCounts: the counters read the files internal/export writes, one
// byte at a time too (a tag split across reads is counted once).
func TestRowCounts(t *testing.T) {
	for _, f := range []export.Format{export.CSV, export.XLSX} {
		var buf bytes.Buffer
		w, err := export.New(f, &buf, "事件")
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Header([]string{"编号", "描述"}); err != nil {
			t.Fatal(err)
		}
		for i := range 1234 {
			if err := w.Row([]export.Cell{export.Int(i), export.Text("<row 楼道 \"x\", y")}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		for _, slow := range []bool{false, true} {
			r := bytes.NewReader(buf.Bytes())
			var in = iotestReader(r, slow)
			var rows int
			var n int64
			if f == export.XLSX {
				rows, n, err = xlsxRows(in)
			} else {
				rows, n, _, err = csvRows(in)
			}
			if err != nil || rows != 1234 || n != int64(buf.Len()) {
				t.Errorf("%s (byte by byte %v): %d rows, %d of %d bytes, %v", f, slow, rows, n, buf.Len(), err)
			}
		}
	}
	if _, _, _, err := csvRows(strings.NewReader("a,b\r\n1,2\r\n")); err == nil {
		t.Error("a CSV without a BOM was counted")
	}
}

func iotestReader(r *bytes.Reader, slow bool) interface{ Read([]byte) (int, error) } {
	if slow {
		return iotest.OneByteReader(r)
	}
	return r
}

func TestParseStatus(t *testing.T) {
	got := parseStatus([]byte("Name:\tpingan\nVmHWM:\t  81234 kB\nVmRSS:\t   70000 kB\nThreads:\t12\n"))
	if len(got) != 2 || got["VmHWM"] != 81234 || got["VmRSS"] != 70000 {
		t.Fatalf("%v", got)
	}
}
