package indicator

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
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
			return nil, errs.Invalid("file", "not a CSV file: "+err.Error())
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
		blank := true
		for _, c := range row {
			blank = blank && strings.TrimSpace(c) == ""
		}
		if blank {
			continue
		}
		e := Entry{Row: n + 2, Indicator: cell(row, "indicator"), RegionCode: cell(row, "region_code"), Period: cell(row, "period"),
			Note: cell(row, "note")}
		if v, err := strconv.ParseFloat(cell(row, "value"), 64); err == nil {
			e.Value = &v
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, errs.Invalid("file", "no rows after the header")
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
