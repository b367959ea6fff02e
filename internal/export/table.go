// Package export writes the tables that supervisors carry away (SPEC §11.5):
// one header row and the rows after it, as CSV (UTF-8 with a BOM, which
// Excel needs to read Chinese) or as an XLSX workbook of one sheet, written
// row by row so that memory stays flat in the row count; and the audit entry
// each export leaves. It knows no case kinds: the HTTP layer chooses the
// columns, the domain services give the rows (scoped and masked).
package export

import (
	"archive/zip"
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/klauspost/compress/flate"
	"github.com/xuri/excelize/v2"
)

// Format is a file format of an export.
type Format string

// The formats.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// ContentType is the media type of the format.
func (f Format) ContentType() string {
	if f == XLSX {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "text/csv; charset=utf-8"
}

// Cell is one value of a row: text, or a number (written as a number, so a
// spreadsheet can sum it). The zero Cell is empty text.
type Cell struct {
	text  string
	num   float64
	isNum bool
}

// Text is a text cell; Writers neutralise what a spreadsheet would read as
// a formula (Neutralise).
func Text(s string) Cell { return Cell{text: s} }

// Number is a numeric cell.
func Number(x float64) Cell { return Cell{num: x, isNum: true} }

// Int is a numeric cell holding a whole number.
func Int(n int) Cell { return Number(float64(n)) }

// Neutralise makes text that starts with a formula's lead character (=, +,
// -, @, tab or carriage return) plain text by prefixing an apostrophe, as
// OWASP advises against CSV injection: a spreadsheet opening the file shows
// the text and runs nothing.
func Neutralise(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// String is the cell as text: neutralised text, or the shortest decimal
// form of a number.
func (c Cell) String() string {
	if c.isNum {
		return strconv.FormatFloat(c.num, 'f', -1, 64)
	}
	return Neutralise(c.text)
}

// Writer writes one table: the header once, then rows. Close ends the file;
// for XLSX it writes the whole workbook then (a zip file has its directory
// at the end), for CSV it flushes what is buffered. Discard releases what a
// file that will not be finished holds (the XLSX sheet's temporary file);
// it may follow Close, and must follow a failure.
type Writer interface {
	Header(names []string) error
	Row(cells []Cell) error
	// Flush sends what is buffered on (CSV; nothing for XLSX).
	Flush() error
	Close() error
	Discard()
}

// New returns a Writer of the format onto w. sheet names the XLSX sheet.
func New(f Format, w io.Writer, sheet string) (Writer, error) {
	switch f {
	case CSV:
		return newCSV(w), nil
	case XLSX:
		return newXLSX(w, sheet)
	}
	return nil, fmt.Errorf("export: unknown format %q", f)
}

// bom is the UTF-8 byte order mark: Excel reads a CSV file as UTF-8 only
// when it starts with one.
const bom = "\ufeff"

type csvWriter struct {
	buf *bufio.Writer
	csv *csv.Writer
	row []string
}

func newCSV(w io.Writer) *csvWriter {
	buf := bufio.NewWriterSize(w, 32<<10)
	cw := csv.NewWriter(buf)
	cw.UseCRLF = true // RFC 4180, and what Excel writes
	return &csvWriter{buf: buf, csv: cw}
}

func (w *csvWriter) Header(names []string) error {
	if _, err := w.buf.WriteString(bom); err != nil {
		return err
	}
	cells := make([]Cell, len(names))
	for i, n := range names {
		cells[i] = Text(n)
	}
	return w.Row(cells)
}

func (w *csvWriter) Row(cells []Cell) error {
	w.row = w.row[:0]
	for _, c := range cells {
		w.row = append(w.row, c.String())
	}
	return w.csv.Write(w.row)
}

func (w *csvWriter) Flush() error {
	w.csv.Flush()
	if err := w.csv.Error(); err != nil {
		return err
	}
	return w.buf.Flush()
}

func (w *csvWriter) Close() error { return w.Flush() }

func (w *csvWriter) Discard() {}

// xlsxWriter writes through excelize's StreamWriter, which keeps the sheet
// in memory up to 16 MiB (excelize.StreamChunkSize, a constant) and in a
// temporary file past that. The workbook's zip goes straight to out at
// Close, compressed by a fast deflate: excelize's own WriteTo would first
// build the whole file in a bytes.Buffer (the size of the download, in
// memory) and deflate it at the default level, the slowest step of a large
// export.
type xlsxWriter struct {
	out  io.Writer
	file *excelize.File
	sw   *excelize.StreamWriter
	n    int // rows written
	row  []any
}

// maxXLSXRows is the most rows a worksheet holds (Excel's limit).
const maxXLSXRows = 1 << 20

func newXLSX(w io.Writer, sheet string) (*xlsxWriter, error) {
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		f.Close()
		return nil, fmt.Errorf("export: sheet name %q: %w", sheet, err)
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		f.Close()
		return nil, err
	}
	f.SetZipWriter(func(io.Writer) excelize.ZipWriter {
		zw := zip.NewWriter(w)
		zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
			return flate.NewWriter(out, flate.BestSpeed)
		})
		return zw
	})
	return &xlsxWriter{out: w, file: f, sw: sw}, nil
}

func (w *xlsxWriter) Header(names []string) error {
	cells := make([]Cell, len(names))
	for i, n := range names {
		cells[i] = Text(n)
	}
	return w.Row(cells)
}

func (w *xlsxWriter) Row(cells []Cell) error {
	if w.n >= maxXLSXRows {
		return fmt.Errorf("export: more than %d rows do not fit in one worksheet", maxXLSXRows)
	}
	w.n++
	w.row = w.row[:0]
	for _, c := range cells {
		if c.isNum {
			w.row = append(w.row, c.num)
		} else {
			w.row = append(w.row, Neutralise(c.text))
		}
	}
	name, err := excelize.CoordinatesToCellName(1, w.n)
	if err != nil {
		return err
	}
	return w.sw.SetRow(name, w.row)
}

func (w *xlsxWriter) Flush() error { return nil }

func (w *xlsxWriter) Close() error {
	defer w.Discard()
	if err := w.sw.Flush(); err != nil {
		return err
	}
	// The zip writer set in newXLSX writes to out; what excelize's WriteTo
	// would copy from its buffer is nothing.
	_, err := w.file.WriteTo(io.Discard)
	return err
}

// Discard removes the sheet's temporary file, if any.
func (w *xlsxWriter) Discard() { _ = w.file.Close() }
