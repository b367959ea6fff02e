package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// getter is one download to measure.
type getter struct {
	side, format, url, token string
	pid                      int // the server's, for its RSS; 0 for none
	// gzip asks for a gzipped body (as a browser does); otherwise the
	// body is asked for as is, as the floor sends it.
	gzip bool
}

// download is what one download measured.
type download struct {
	Side, Format  string
	Round         int
	Rows          int
	Bytes         int64
	Gzip          bool  `json:",omitempty"`
	WireBytes     int64 `json:",omitempty"` // as sent, when gzipped
	Seconds       float64
	RowsPerSecond float64
	FirstByteMS   float64
	SHA256        string  `json:",omitempty"`
	RSSBeforeMB   float64 `json:",omitempty"`
	RSSPeakMB     float64 `json:",omitempty"`
	RSSAfterMB    float64 `json:",omitempty"`
	// PeakFrom says how the peak was read: VmHWM (reset before) or sampled.
	PeakFrom string `json:",omitempty"`
}

// RSSGrowthMB is the most the server's RSS rose above its level before.
func (d download) RSSGrowthMB() float64 { return d.RSSPeakMB - d.RSSBeforeMB }

func (g getter) get(ctx context.Context, c *http.Client) (download, error) {
	d := download{Side: g.side, Format: g.format, Gzip: g.gzip}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.url, nil)
	if err != nil {
		return d, err
	}
	if g.token != "" {
		req.Header.Set("Authorization", "Bearer "+g.token)
	}
	if g.gzip {
		// Set by hand, the transport leaves the body gzipped.
		req.Header.Set("Accept-Encoding", "gzip")
	}
	var w *rssWatch
	if g.pid > 0 {
		if w, err = watchRSS(g.pid); err != nil {
			return d, err
		}
		defer w.stop()
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return d, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return d, fmt.Errorf("GET %s: %d %s", g.url, resp.StatusCode, b)
	}
	body := &firstByte{r: resp.Body}
	var in io.Reader = body
	var wire *counter
	if resp.Header.Get("Content-Encoding") == "gzip" {
		wire = &counter{r: body}
		zr, err := gzip.NewReader(wire)
		if err != nil {
			return d, err
		}
		in = zr
	}
	var rows int
	if g.format == "xlsx" {
		rows, d.Bytes, err = xlsxRows(in)
	} else {
		var sum []byte
		rows, d.Bytes, sum, err = csvRows(in)
		d.SHA256 = hex.EncodeToString(sum)
	}
	if err != nil {
		return d, fmt.Errorf("GET %s: %w", g.url, err)
	}
	d.Seconds = time.Since(start).Seconds()
	if wire != nil {
		d.WireBytes = wire.n
	}
	d.FirstByteMS = float64(body.at.Sub(start).Microseconds()) / 1000
	if w != nil {
		before, peak, after, from := w.stop()
		d.RSSBeforeMB, d.RSSPeakMB, d.RSSAfterMB, d.PeakFrom = mb(before), mb(peak), mb(after), from
	}
	d.Rows = rows
	d.RowsPerSecond = float64(rows) / d.Seconds
	return d, nil
}

// counter counts the bytes read through it.
type counter struct {
	r io.Reader
	n int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// firstByte notes when the first byte of a body arrived.
type firstByte struct {
	r  io.Reader
	at time.Time
}

func (f *firstByte) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if n > 0 && f.at.IsZero() {
		f.at = time.Now()
	}
	return n, err
}

// csvRows counts the records after the header of a CSV export (one per
// line: the exported texts hold no line breaks) and hashes the file.
func csvRows(r io.Reader) (rows int, n int64, sum []byte, err error) {
	h := sha256.New()
	br := bufio.NewReaderSize(r, 64<<10)
	if bom, _ := br.Peek(3); string(bom) != "\ufeff" {
		return 0, 0, nil, errors.New("the CSV does not start with a BOM")
	}
	buf := make([]byte, 256<<10)
	lines := 0
	for {
		k, err := br.Read(buf)
		if k > 0 {
			lines += bytes.Count(buf[:k], []byte("\n"))
			n += int64(k)
			h.Write(buf[:k])
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, n, nil, err
		}
	}
	if lines == 0 {
		return 0, n, nil, errors.New("no header")
	}
	return lines - 1, n, h.Sum(nil), nil
}

// xlsxRows saves an XLSX export to a temporary file, then counts the rows of
// its worksheet after the header: the file must be a whole zip.
func xlsxRows(r io.Reader) (rows int, n int64, err error) {
	f, err := os.CreateTemp("", "export-*.xlsx")
	if err != nil {
		return 0, 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if n, err = io.Copy(f, r); err != nil {
		return 0, n, err
	}
	zr, err := zip.NewReader(f, n)
	if err != nil {
		return 0, n, fmt.Errorf("not a zip: %w", err)
	}
	for _, z := range zr.File {
		if z.Name != "xl/worksheets/sheet1.xml" {
			continue
		}
		sheet, err := z.Open()
		if err != nil {
			return 0, n, err
		}
		defer sheet.Close()
		count, err := countTag(sheet, []byte("<row "))
		if err != nil {
			return 0, n, err
		}
		return count - 1, n, nil
	}
	return 0, n, errors.New("no xl/worksheets/sheet1.xml")
}

// countTag counts tag in r, across reads.
func countTag(r io.Reader, tag []byte) (int, error) {
	buf := make([]byte, 256<<10)
	keep := 0 // bytes carried over from the last read, shorter than tag
	count := 0
	for {
		k, err := r.Read(buf[keep:])
		data := buf[:keep+k]
		count += bytes.Count(data, tag)
		keep = min(len(tag)-1, len(data))
		copy(buf, data[len(data)-keep:])
		if err == io.EOF {
			return count, nil
		}
		if err != nil {
			return count, err
		}
	}
}

func mb(kb int64) float64 { return float64(kb) / 1024 }
