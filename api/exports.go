package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"pingan/internal/errs"
	"pingan/internal/export"
)

// Exports (SPEC §11.5): a list's rows as a CSV or XLSX file, with the
// list's filters and through the list's own service call (the scope rule
// and its 403), read page by page by keyset and written as they come. The
// columns are in exportcolumns.go.

// exportPage is how many rows one read of an export takes: 2 000 exported
// 23 % faster than 500 on MariaDB (fewer keyset queries, each planned
// again), for about 2 MB more of live heap (docs/performance.md, exports).
const exportPage = 2000

// cutPage cuts a read of exportPage+1 items to one page: more when the read
// found the extra item, then next is given the page's last item (to set the
// keyset cursor of the following read).
func cutPage[T any](items []T, next func(last T)) ([]T, bool) {
	if len(items) <= exportPage {
		return items, false
	}
	items = items[:exportPage]
	next(items[len(items)-1])
	return items, true
}

// exportWriteTimeout is how long one page may take to reach the client:
// an export outlives the server's WriteTimeout, so each page moves the
// connection's write deadline on.
const exportWriteTimeout = 60 * time.Second

// pager reads the next page of an export's rows within ctx; more is false
// after the last one.
type pager func(ctx context.Context) (rows [][]export.Cell, more bool, err error)

// exportJob is one export, described before its first page is read.
type exportJob struct {
	kind   string // export.Incidents …
	title  string // what the file holds, in its name: 矛盾纠纷
	format export.Format
	// region is the code asked for ("" for the caller's scope), period the
	// period asked for (2026-10-01_2026-10-31, 2026-10; "" for none): the
	// file is named after them.
	region, period string
	header         []string
	filters        map[string]string
	next           pager
}

// exportFormat reads ?format= (required).
func exportFormat(c *gin.Context, bad errs.FieldErrors) export.Format {
	switch f := export.Format(c.Query("format")); f {
	case export.CSV, export.XLSX:
		return f
	case "":
		bad.Add("format", "required: csv or xlsx")
	default:
		bad.Add("format", "csv or xlsx")
	}
	return ""
}

// exportFilters are the query's filters as the audit entry keeps them.
func exportFilters(c *gin.Context, names []string) map[string]string {
	out := map[string]string{}
	for _, n := range names {
		if v, ok := c.GetQuery(n); ok {
			out[n] = v
		}
	}
	return out
}

// pageContext bounds one page's reads like a request (RequestTimeout),
// inside the export's own context, which ends when the client goes away.
func pageContext(c *gin.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(unbounded(c), RequestTimeout)
}

// runExport reads the first page (an error then is an ordinary error
// answer), then sends the file: header, rows page by page, flushed after
// each, and audits the export with the rows sent. An error after the first
// byte can no longer change the status: the connection is cut
// (http.ErrAbortHandler) so that the client sees a broken transfer, not a
// short file.
func (s *server) runExport(c *gin.Context, job exportJob) {
	ctx, cancel := pageContext(c)
	rows, more, err := job.next(ctx)
	cancel()
	if err != nil {
		writeError(c, err)
		return
	}
	rc := http.NewResponseController(c.Writer)
	// The request was read long ago; a read deadline passing during a long
	// export would cancel its context (as for the notification stream).
	_ = rc.SetReadDeadline(time.Time{})
	regionName, regionPath := s.exportRegion(c, job.region)
	code := job.region
	if code == "" {
		code = caller(c).RegionCode
	}
	h := c.Writer.Header()
	h.Set("Content-Type", job.format.ContentType())
	h.Set("Content-Disposition", export.Disposition(export.Filename(job.format, regionName, job.title, job.period),
		export.Filename(job.format, job.kind, code, job.period)))
	c.Status(http.StatusOK)

	rec := export.Record{Kind: job.kind, Format: job.format, Filters: job.filters, RegionPath: regionPath}
	func() {
		defer export.CollectEagerly()()
		err = s.writeExport(c, rc, job, rows, more, &rec)
	}()
	// The audit entry is written whatever happened, with what was sent; in
	// a context of its own, since the client may be gone.
	actx, acancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), RequestTimeout)
	defer acancel()
	if aerr := s.exports.Audit(actx, caller(c), rec); aerr != nil {
		logger(c).Error("export not audited", "kind", job.kind, "error", aerr)
		err = errors.Join(err, aerr)
	}
	if err != nil {
		if unbounded(c).Err() == nil {
			logger(c).Error("export cut short", "kind", job.kind, "rows", rec.Rows, "error", err)
		}
		panic(http.ErrAbortHandler)
	}
}

// writeExport writes the file; rec counts the rows sent and says whether
// the file was finished. The pages after the first are read ahead, one at a
// time, while the one before is written: the database and the
// encoding overlap instead of taking turns (readAhead).
func (s *server) writeExport(c *gin.Context, rc *http.ResponseController, job exportJob, rows [][]export.Cell, more bool,
	rec *export.Record) error {
	w, err := export.New(job.format, c.Writer, job.title)
	if err != nil {
		return err
	}
	defer w.Discard()
	if err := w.Header(job.header); err != nil {
		return err
	}
	ctx, stop := context.WithCancel(unbounded(c))
	defer stop()
	var ahead <-chan pageRead
	if more {
		ahead = readAhead(ctx, job.next)
	}
	for {
		for _, r := range rows {
			if err := w.Row(r); err != nil {
				return err
			}
		}
		rec.Rows += len(rows)
		_ = rc.SetWriteDeadline(time.Now().Add(exportWriteTimeout))
		if err := w.Flush(); err != nil {
			return err
		}
		if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		if !more {
			break
		}
		p, ok := <-ahead
		if !ok {
			return ctx.Err()
		}
		if p.err != nil {
			return p.err
		}
		rows, more = p.rows, p.more
	}
	_ = rc.SetWriteDeadline(time.Now().Add(exportWriteTimeout))
	if err := w.Close(); err != nil {
		return err
	}
	rec.Complete = true
	return nil
}

// pageRead is one read of an export's rows.
type pageRead struct {
	rows [][]export.Cell
	more bool
	err  error
}

// readAhead reads the pages of next, each within its own deadline
// (pageContext), and hands them over one by one: at most one page waits
// while the next is read, so memory stays flat in the row count. It stops
// after the last page, an error, or when ctx ends (the export is over).
func readAhead(ctx context.Context, next pager) <-chan pageRead {
	out := make(chan pageRead)
	go func() {
		defer close(out)
		for {
			pctx, cancel := context.WithTimeout(ctx, RequestTimeout)
			rows, more, err := next(pctx)
			cancel()
			select {
			case out <- pageRead{rows: rows, more: more, err: err}:
			case <-ctx.Done():
				return
			}
			if !more || err != nil {
				return
			}
		}
	}()
	return out
}

// exportRegion is the region an export covers, for its file name and its
// audit entry: the one asked for, else the caller's own scope.
func (s *server) exportRegion(c *gin.Context, code string) (name, path string) {
	p := caller(c)
	if code == "" {
		code = p.RegionCode
	}
	r, err := s.regions.FindRegion(c.Request.Context(), p, code)
	if err != nil {
		// The list's own call has judged the region already; a name is all
		// that is missing here.
		return code, ""
	}
	if code == p.RegionCode {
		return r.Name, ""
	}
	return r.Name, r.Path
}

// names looks region names up once per code for one export.
type names struct {
	s     *server
	cache map[string]string
}

func (s *server) names() *names { return &names{s: s, cache: map[string]string{}} }

func (n *names) of(ctx context.Context, code string) (string, error) {
	if code == "" {
		return "", nil
	}
	if name, ok := n.cache[code]; ok {
		return name, nil
	}
	name, err := n.s.regions.FindName(ctx, code)
	if err != nil {
		return "", err
	}
	n.cache[code] = name
	return name, nil
}

// exportParams refuses any query parameter but the export's filters and
// format (400 naming it); false when it answered.
func exportParams(c *gin.Context, filters []string) bool {
	if err := checkQuery(c, slices.Concat(filters, []string{"format"})...); err != nil {
		writeError(c, err)
		return false
	}
	return true
}
