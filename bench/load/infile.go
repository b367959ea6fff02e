package main

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"

	"pingan/bench/internal/benchdb"
)

// The infile method sends each chunk as tab-separated text through LOAD DATA
// LOCAL INFILE: MariaDB reads such rows with less work than the values of a
// multi-row INSERT, which it parses into one expression per value.

// infileSQL loads rows from the registered reader name into incidents.
func infileSQL(name string) string {
	return "LOAD DATA LOCAL INFILE 'Reader::" + name + "' INTO TABLE incidents CHARACTER SET utf8mb4 " +
		`FIELDS TERMINATED BY '\t' ESCAPED BY '\\' LINES TERMINATED BY '\n' (` + benchdb.Columns + ")"
}

var readerSeq atomic.Uint64

// registerChunk makes data readable as Reader::<name> for one LOAD DATA
// statement; the returned function forgets it again.
func registerChunk(data []byte) (name string, forget func()) {
	name = fmt.Sprintf("pingan-bench-%d", readerSeq.Add(1))
	mysql.RegisterReaderHandler(name, func() io.Reader { return bytes.NewReader(data) })
	return name, func() { mysql.DeregisterReaderHandler(name) }
}

// appendTSV appends r as one line of LOAD DATA's default text format.
func appendTSV(b []byte, r *benchdb.Incident) []byte {
	b = appendText(b, r.ID)
	for _, s := range []string{r.CaseNo, r.Category, r.Severity, r.Status, r.Description} {
		b = append(b, '\t')
		b = appendText(b, s)
	}
	b = append(b, '\t')
	b = appendFloat(b, r.Lat)
	b = append(b, '\t')
	b = appendFloat(b, r.Lng)
	for _, s := range []string{r.Address, r.RegionCode, r.CommunityCode, r.TownshipCode, r.CountyCode} {
		b = append(b, '\t')
		b = appendText(b, s)
	}
	b = append(b, '\t')
	b = appendTime(b, r.OccurredAt)
	b = append(b, '\t')
	b = appendTime(b, r.ReportedAt)
	b = append(b, '\t')
	if r.ClientCreatedAt == nil {
		b = append(b, `\N`...)
	} else {
		b = appendTime(b, *r.ClientCreatedAt)
	}
	b = append(b, '\t')
	b = appendText(b, r.ReporterID)
	b = append(b, '\t')
	b = strconv.AppendInt(b, int64(r.Version), 10)
	b = append(b, '\t')
	b = appendTime(b, r.CreatedAt)
	b = append(b, '\t')
	b = appendTime(b, r.UpdatedAt)
	return append(b, '\n')
}

var tsvEscaper = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`, "\x00", `\0`)

func appendText(b []byte, s string) []byte {
	if strings.ContainsAny(s, "\\\t\n\r\x00") {
		s = tsvEscaper.Replace(s)
	}
	return append(b, s...)
}

func appendFloat(b []byte, f *float64) []byte {
	if f == nil {
		return append(b, `\N`...)
	}
	return strconv.AppendFloat(b, *f, 'f', -1, 64)
}

func appendTime(b []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(b, "2006-01-02 15:04:05.000000")
}
