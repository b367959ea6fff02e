package indicator

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"pingan/internal/errs"
)

// Columns are the columns of an import file, in any order, named in its
// first row; note is optional.
var Columns = []string{"indicator", "region_code", "period", "value", "note"}

// MaxImportBytes bounds an import file.
const MaxImportBytes = 8 << 20

// ParseCSV reads entries from a CSV file (UTF-8, a header row naming the
// columns). Returns errs.FieldErrors naming the file's problems.
func ParseCSV(data []byte) ([]Entry, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // Excel's UTF-8 mark
	if !utf8.Valid(data) {
		return nil, errs.Invalid("file", "not UTF-8 text")
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	var rows [][]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, errs.Invalid("file", csvProblem(err))
		}
		rows = append(rows, rec)
		if len(rows) > MaxBatch+1 {
			return nil, errs.Invalid("file", fmt.Sprintf("at most %d rows", MaxBatch))
		}
	}
	return entries(rows)
}

// ParseXLSX reads entries from the first sheet of an XLSX workbook, laid
// out as the CSV. Returns errs.FieldErrors naming the file's problems.
func ParseXLSX(data []byte) ([]Entry, error) {
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: 64 << 20, UnzipXMLSizeLimit: 32 << 20})
	if err != nil {
		return nil, errs.Invalid("file", "not an XLSX workbook")
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, errs.Invalid("file", "the workbook has no sheet")
	}
	it, err := f.Rows(sheets[0])
	if err != nil {
		return nil, errs.Invalid("file", "the first sheet cannot be read")
	}
	defer it.Close()
	var rows [][]string
	for it.Next() {
		cols, err := it.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, errs.Invalid("file", "the first sheet cannot be read")
		}
		rows = append(rows, cols)
		if len(rows) > MaxBatch+1 {
			return nil, errs.Invalid("file", fmt.Sprintf("at most %d rows", MaxBatch))
		}
	}
	return entries(rows)
}

// entries reads rows whose first is the header. Blank rows are skipped.
func entries(rows [][]string) ([]Entry, error) {
	if len(rows) == 0 {
		return nil, errs.Invalid("file", "empty: the first row names the columns "+strings.Join(Columns, ", "))
	}
	at := map[string]int{}
	for i, h := range rows[0] {
		h = strings.ToLower(strings.TrimSpace(h))
		if _, dup := at[h]; dup || !contains(Columns, h) {
			return nil, errs.Invalid("file", fmt.Sprintf("column %d of the header is %q; the columns are %s", i+1, h, strings.Join(Columns, ", ")))
		}
		at[h] = i
	}
	for _, c := range Columns[:4] {
		if _, ok := at[c]; !ok {
			return nil, errs.Invalid("file", "the header lacks the column "+c)
		}
	}
	cell := func(row []string, col string) string {
		if i, ok := at[col]; ok && i < len(row) {
			return strings.TrimSpace(row[i])
		}
		return ""
	}
	var out []Entry
	for n, row := range rows[1:] {
		blank, cells := true, 0
		for i, c := range row {
			if strings.TrimSpace(c) != "" {
				blank, cells = false, i+1
			}
		}
		if blank {
			continue
		}
		if cells > len(rows[0]) {
			// Most often a number written with a thousands separator, 1,000,
			// which would otherwise be read as 1.
			return nil, errs.Invalid("file", fmt.Sprintf("row %d has %d cells, the header names %d columns (write 1000, not 1,000)",
				n+2, cells, len(rows[0])))
		}
		e := Entry{Row: n + 2, Indicator: cell(row, "indicator"), RegionCode: cell(row, "region_code"), Period: cell(row, "period"),
			Note: cell(row, "note")}
		// Codes hold no control characters, a note none but line breaks and
		// tabs: a carriage return or the like would not read back the same.
		for _, c := range []struct{ col, v, allowed string }{{"indicator", e.Indicator, ""}, {"region_code", e.RegionCode, ""},
			{"period", e.Period, ""}, {"note", e.Note, "\n\t"}} {
			if strings.ContainsFunc(c.v, func(r rune) bool { return unicode.IsControl(r) && !strings.ContainsRune(c.allowed, r) }) {
				return nil, errs.Invalid("file", fmt.Sprintf("row %d: the %s holds a control character", n+2, c.col))
			}
		}
		if v, ok := plainDecimal(cell(row, "value")); ok {
			e.Value = &v
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, errs.Invalid("file", "no rows after the header")
	}
	return out, nil
}

// decimal is a number as a person or a spreadsheet writes it: digits with
// an optional sign, point and exponent (Excel stores 1E-3). Not hex, not
// digits grouped with "_" or ",", not Inf or NaN, which ParseFloat takes.
var decimal = regexp.MustCompile(`^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?$`)

// plainDecimal reads a cell's number; false for anything but a plain
// decimal that fits a float64.
func plainDecimal(s string) (float64, bool) {
	if !decimal.MatchString(s) {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

// csvProblem says in pingan's words where and why a CSV file cannot be
// read (encoding/csv's own text names Go's error values).
func csvProblem(err error) string {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return "not a CSV file"
	}
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return fmt.Sprintf(`not a CSV file: line %d, column %d: a " inside a field that is not quoted (quote the field and double the ")`,
			pe.Line, pe.Column)
	case errors.Is(pe.Err, csv.ErrQuote):
		return fmt.Sprintf(`not a CSV file: the quoted field that starts on line %d is not closed, or a " in it is not doubled`,
			pe.StartLine)
	}
	return fmt.Sprintf("not a CSV file: line %d cannot be read", pe.Line)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
