package indicator

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"pingan/internal/errs"
)

// TestPeriodBounds: periods lie between 2000-01 and the next period (SPEC
// §6); issue #12's example is a department value for 0000-01.
func TestPeriodBounds(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 11, 30, 20, 0, 0, 0, time.UTC) // 2026-12-01 04:00 in Dongying
	for _, c := range []struct {
		in, kind, want string // want: the error's text, "" when accepted
	}{
		{"2026-10", Month, ""},
		{"2026-10-15", Day, ""},
		{"2000-01", Month, ""},
		{"2000-01-01", Day, ""},
		{"2026-12", Month, ""},  // the current month in Dongying
		{"2027-01", Month, ""},  // the next
		{"2026-12-02", Day, ""}, // the next day
		{"0000-01", "", "a month (2026-10) or a day (2026-10-15) from 2000-01 on"},
		{"1999-12", "", "a month (2026-10) or a day (2026-10-15) from 2000-01 on"},
		{"1999-12-31", "", "a month (2026-10) or a day (2026-10-15) from 2000-01 on"},
		{"2027-02", "", "a month (2026-10) or a day (2026-10-15) from 2000-01 to the next month, 2027-01"},
		{"9999-12", "", "a month (2026-10) or a day (2026-10-15) from 2000-01 to the next month, 2027-01"},
		{"2026-12-03", "", "a month (2026-10) or a day (2026-10-15) from 2000-01 to the next day, 2026-12-02"},
		{"2026-02-30", "", "a month (2026-10) or a day (2026-10-15): 2026-02-30 is not a date"},
		{"2026-13", "", "a month (2026-10) or a day (2026-10-15)"},
		{"year", "", "a month (2026-10) or a day (2026-10-15)"},
		{"", "", "a month (2026-10) or a day (2026-10-15)"},
	} {
		kind, _, err := ParsePeriodBy(c.in, loc, now)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want || kind != c.kind {
			t.Errorf("ParsePeriodBy(%q) = %q, %q; want %q, %q", c.in, kind, got, c.kind, c.want)
		}
	}
	// ParsePeriod has the lower bound alone: the index's own periods (a
	// window's past, a backfill) are not bounded by today.
	if _, _, err := ParsePeriod("2030-05", loc); err != nil {
		t.Errorf("ParsePeriod(2030-05): %v", err)
	}
	if _, _, err := ParsePeriod("0000-01", loc); err == nil {
		t.Error("ParsePeriod(0000-01) accepted")
	}
	if _, _, _, err := Bounds("0000-01", loc); err == nil {
		t.Error("Bounds(0000-01) accepted")
	}
}

// TestImportNumbers: a value is a plain decimal (issue #12: "1_000" was
// read as 1000); anything else leaves the entry without a value, which
// Enter names.
func TestImportNumbers(t *testing.T) {
	for _, c := range []struct {
		cell string
		want float64
		ok   bool
	}{
		{"12", 12, true}, {"3.5", 3.5, true}, {"0", 0, true}, {".5", 0.5, true}, {"5.", 5, true},
		{"+7", 7, true}, {"-1", -1, true}, {"1E-3", 0.001, true}, {"1.5e2", 150, true},
		{"1_000", 0, false}, {`"1,000"`, 0, false}, {"0x10", 0, false}, {"0X1p4", 0, false},
		{"Inf", 0, false}, {"+Inf", 0, false}, {"infinity", 0, false}, {"NaN", 0, false},
		{"1e400", 0, false}, {"1e", 0, false}, {"", 0, false}, {"12 个", 0, false}, {"１２", 0, false},
	} {
		for _, parse := range []struct {
			name string
			fn   func(string) ([]Entry, error)
		}{{"csv", func(v string) ([]Entry, error) {
			return ParseCSV([]byte("indicator,region_code,period,value\npetitions,370502,2026-10," + v + "\n"))
		}}, {"xlsx", func(v string) ([]Entry, error) { return ParseXLSX(workbook(t, strings.Trim(v, `"`))) }}} {
			es, err := parse.fn(c.cell)
			if err != nil {
				t.Fatalf("%s %q: %v", parse.name, c.cell, err)
			}
			got := es[0].Value
			if (got != nil) != c.ok || (got != nil && *got != c.want) {
				t.Errorf("%s %q: value %v, want %v (ok %v)", parse.name, c.cell, deref(got), c.want, c.ok)
			}
		}
	}
}

func deref(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

// workbook is an XLSX file of one row whose value cell holds v as text.
func workbook(t *testing.T, v string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, row := range [][]string{{"indicator", "region_code", "period", "value"}, {"petitions", "370502", "2026-10", v}} {
		for j, cell := range row {
			name, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if err := f.SetCellStr("Sheet1", name, cell); err != nil {
				t.Fatal(err)
			}
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestCSVErrorsInOwnWords: a CSV file that cannot be read is named by line
// and column in pingan's words, not encoding/csv's.
func TestCSVErrorsInOwnWords(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"indicator,region_code,period,value\npetitions,37\"05,2026-10,1\n",
			`not a CSV file: line 2, column 13: a " inside a field that is not quoted (quote the field and double the ")`},
		{"indicator,region_code,period,value\n\"petitions,370502,2026-10,1\n",
			`not a CSV file: the quoted field that starts on line 2 is not closed, or a " in it is not doubled`},
		// Issue #12's class: a thousands separator splits the value in two.
		{"indicator,region_code,period,value\npetitions,370502,2026-10,1,000\n",
			"row 2 has 5 cells, the header names 4 columns (write 1000, not 1,000)"},
	} {
		_, err := ParseCSV([]byte(c.in))
		var fe errs.FieldErrors
		if !errors.As(err, &fe) || fe["file"] != c.want {
			t.Errorf("%q: %v\n want file: %s", c.in, err, c.want)
		}
		if strings.Contains(err.Error(), "parse error") || strings.Contains(err.Error(), "extraneous") {
			t.Errorf("the decoder's text leaks: %v", err)
		}
	}
}
