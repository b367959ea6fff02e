package main

import (
	"fmt"
	"io"
	"log"
)

// report is the benchmark's result, printed and written as JSON.
type report struct {
	Started  string
	Rounds   int
	Runs     []download
	Failures []string `json:",omitempty"`
	// Complete is false when a side could not be measured.
	Complete bool

	CSVTarget, XLSXTarget, RSSTargetMB float64
	// The best rate of each side, the ratios to the floor's, the largest
	// RSS growth of the API's CSV and XLSX exports.
	RawCSV, APICSV, APIXLSX, APICSVGzip float64
	CSVRatio, XLSXRatio                 float64
	CSVGrowthMB, XLSXGrowthMB           float64
	SameBytes                           bool
	CSVPass, XLSXPass, RSSPass          bool
}

func (r *report) fail(what string, err error) {
	log.Printf("export: %s: %v", what, err)
	r.Failures = append(r.Failures, what+": "+err.Error())
	r.Complete = false
}

// judge takes the best rates and the largest growths and checks the targets.
func (r *report) judge() {
	hashes := map[string]bool{}
	for _, d := range r.Runs {
		if d.Gzip {
			r.APICSVGzip = max(r.APICSVGzip, d.RowsPerSecond)
			continue
		}
		switch d.Side + " " + d.Format {
		case "raw csv":
			r.RawCSV = max(r.RawCSV, d.RowsPerSecond)
			hashes[d.SHA256] = true
		case "api csv":
			r.APICSV = max(r.APICSV, d.RowsPerSecond)
			r.CSVGrowthMB = max(r.CSVGrowthMB, d.RSSGrowthMB())
			hashes[d.SHA256] = true
		case "api xlsx":
			r.APIXLSX = max(r.APIXLSX, d.RowsPerSecond)
			r.XLSXGrowthMB = max(r.XLSXGrowthMB, d.RSSGrowthMB())
		}
	}
	if r.RawCSV == 0 || r.APICSV == 0 || r.APIXLSX == 0 {
		r.Complete = false
		return
	}
	r.SameBytes = len(hashes) == 1
	r.CSVRatio, r.XLSXRatio = r.APICSV/r.RawCSV, r.APIXLSX/r.RawCSV
	r.CSVPass = r.CSVRatio >= r.CSVTarget
	r.XLSXPass = r.XLSXRatio >= r.XLSXTarget
	r.RSSPass = r.CSVGrowthMB <= r.RSSTargetMB
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\n%-5s %-6s %5s %9s %7s %8s %9s %10s %9s %9s %8s\n", "side", "form", "round", "rows", "MB", "seconds",
		"rows/s", "1st byte", "RSS MB", "peak MB", "growth")
	for _, d := range r.Runs {
		rss := fmt.Sprintf("%9s %9s %8s", "", "", "")
		if d.Side == "api" {
			rss = fmt.Sprintf("%9.1f %9.1f %8.1f", d.RSSBeforeMB, d.RSSPeakMB, d.RSSGrowthMB())
		}
		form := d.Format
		if d.Gzip {
			form += ".gz"
		}
		fmt.Fprintf(w, "%-5s %-6s %5d %9d %7.1f %8.1f %9.0f %8.0fms %s\n", d.Side, form, d.Round, d.Rows,
			float64(d.Bytes)/1e6, d.Seconds, d.RowsPerSecond, d.FirstByteMS, rss)
	}
	for _, f := range r.Failures {
		fmt.Fprintf(w, "NOT MEASURED %s\n", f)
	}
	if !r.Complete {
		return
	}
	fmt.Fprintf(w, "\nCSV files of the floor and the API identical (SHA-256): %v\n", r.SameBytes)
	fmt.Fprintf(w, "%s API CSV  %.0f rows/s = %.2f of the floor's %.0f (target ≥ %.2f)\n", verdict(r.CSVPass), r.APICSV,
		r.CSVRatio, r.RawCSV, r.CSVTarget)
	fmt.Fprintf(w, "%s API XLSX %.0f rows/s = %.2f of the floor's CSV (target ≥ %.2f)\n", verdict(r.XLSXPass), r.APIXLSX,
		r.XLSXRatio, r.XLSXTarget)
	fmt.Fprintf(w, "%s API RSS growth over a CSV export %.1f MB (target ≤ %.0f MB); over an XLSX export %.1f MB\n",
		verdict(r.RSSPass), r.CSVGrowthMB, r.RSSTargetMB, r.XLSXGrowthMB)
	if r.APICSVGzip > 0 {
		fmt.Fprintf(w, "     API CSV gzipped (as a browser asks for it) %.0f rows/s = %.2f of the floor's plain CSV\n",
			r.APICSVGzip, r.APICSVGzip/r.RawCSV)
	}
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}
