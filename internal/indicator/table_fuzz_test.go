package indicator

import (
	"bytes"
	"encoding/csv"
	"errors"
	"math"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"pingan/internal/errs"
)

// fuzzCSVSeeds are import files as departments send them, and as they should not.
var fuzzCSVSeeds = []string{
	"indicator,region_code,period,value,note\npetitions,370502003001,2026-10,12,信访局月报\n",
	"\xef\xbb\xbfRegion_Code , Indicator,Period,Value\r\n370502003001,petitions,2026-10-15,0.5\r\n\r\n",
	"indicator,region_code,period,value,note\n\"petitions\",\"370502003001\",2026-10,\"1,5\",\"a \"\"quoted\"\" note\nover two lines\"\n",
	"indicator,region_code,period,value\npetitions,370502003001,2026-10,1_000\npetitions,370502003001,2026-10,0x10\npetitions,x,y,NaN\n",
	"indicator,indicator,period,value\n",
	"indicator,region_code,period\n",
	"indicator,region_code,period,value,colour\n",
	"indicator,region_code,period,value\n,,,\n",
	"indicator,region_code,period,value\npetitions,\"370502,2026-10,1\n",
	"",
	"\xff\xfe",
}

// FuzzParseCSV: any file is read into entries or refused with ErrInvalid;
// what is read prints back as a CSV file that reads as the same entries.
func FuzzParseCSV(f *testing.F) {
	for _, s := range fuzzCSVSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseCSV(data)
		fuzzCheckEntries(t, got, err)
		if err == nil {
			fuzzRoundTrip(t, got)
		}
	})
}

// FuzzParseXLSX: any bytes are read as a workbook or refused with
// ErrInvalid; what is read prints back as a CSV file that reads alike.
func FuzzParseXLSX(f *testing.F) {
	for _, s := range fuzzCSVSeeds[:4] {
		f.Add(fuzzWorkbook(f, s))
	}
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseXLSX(data)
		fuzzCheckEntries(t, got, err)
		if err == nil {
			fuzzRoundTrip(t, got)
		}
	})
}

// fuzzWorkbook lays a CSV file out as the first sheet of an XLSX workbook.
func fuzzWorkbook(tb testing.TB, s string) []byte {
	tb.Helper()
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix([]byte(s), []byte("\xef\xbb\xbf")))).ReadAll()
	if err != nil {
		tb.Fatal(err)
	}
	x := excelize.NewFile()
	defer x.Close()
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		vals := make([]any, len(row))
		for j, v := range row {
			vals[j] = v
		}
		if err := x.SetSheetRow("Sheet1", cell, &vals); err != nil {
			tb.Fatal(err)
		}
	}
	b, err := x.WriteToBuffer()
	if err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// fuzzCheckEntries: an error is ErrInvalid naming the file; entries are at
// most MaxBatch, in file order, with trimmed cells.
func fuzzCheckEntries(t *testing.T, got []Entry, err error) {
	t.Helper()
	if err != nil {
		var fe errs.FieldErrors
		if !errors.As(err, &fe) || !errors.Is(err, errs.ErrInvalid) || got != nil {
			t.Fatalf("refused with %v (%d entries)", err, len(got))
		}
		return
	}
	if len(got) == 0 || len(got) > MaxBatch {
		t.Fatalf("%d entries", len(got))
	}
	last := 1
	for _, e := range got {
		if e.Row <= last {
			t.Fatalf("row %d after row %d", e.Row, last)
		}
		last = e.Row
		for _, s := range []string{e.Indicator, e.RegionCode, e.Period, e.Note} {
			if s != string(bytes.TrimSpace([]byte(s))) {
				t.Fatalf("row %d: untrimmed cell %q", e.Row, s)
			}
		}
	}
}

// fuzzRoundTrip writes entries as a CSV import file and reads it back. Entries
// with nothing readable (a blank row but for a value that is no number)
// print as blank rows, which are skipped.
func fuzzRoundTrip(t *testing.T, entries []Entry) {
	t.Helper()
	var want []Entry
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(Columns)
	for _, e := range entries {
		value := ""
		if e.Value != nil {
			value = strconv.FormatFloat(*e.Value, 'f', -1, 64)
		}
		if e.Indicator == "" && e.RegionCode == "" && e.Period == "" && e.Note == "" && value == "" {
			continue
		}
		if !utf8.ValidString(e.Indicator + e.RegionCode + e.Period + e.Note) {
			return // a workbook's text that no CSV file can hold
		}
		want = append(want, e)
		_ = w.Write([]string{e.Indicator, e.RegionCode, e.Period, value, e.Note})
	}
	w.Flush()
	if len(want) == 0 {
		return
	}
	again, err := ParseCSV(b.Bytes())
	if err != nil || len(again) != len(want) {
		t.Fatalf("%d entries print as %q, which reads as %d entries: %v", len(want), b.String(), len(again), err)
	}
	for i, e := range again {
		w := want[i]
		if e.Indicator != w.Indicator || e.RegionCode != w.RegionCode || e.Period != w.Period || e.Note != w.Note ||
			!fuzzSameValue(e.Value, w.Value) {
			t.Fatalf("entry %d: %+v reads back as %+v from %q", i, w, e, b.String())
		}
	}
}

func fuzzSameValue(a, b *float64) bool {
	switch {
	case a == nil || b == nil:
		return a == b
	case math.IsNaN(*a):
		return math.IsNaN(*b)
	}
	return math.Float64bits(*a) == math.Float64bits(*b)
}
