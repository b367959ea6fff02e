package store

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/go-sql-driver/mysql"
	"gorm.io/gorm"

	"pingan/internal/errs"
	"pingan/internal/idempotency"
	"pingan/internal/incident"
)

// Group commit. A report from a phone is a handful of inserts (the case,
// its first timeline event, its audit entry, its idempotency receipt) and
// perhaps a checked update (its photos). Run one by one, each report costs
// a transaction of six round trips and a log flush; under load most of the
// database's time goes to that overhead, not to the rows. CreateReport
// hands a report's rows to a committer instead, which writes the reports
// of every request waiting at that moment in one transaction: one
// multi-row INSERT per table and one COMMIT, sent to MySQL as one query
// (writeBatch). Each caller returns after that COMMIT, so no acknowledged
// report is lost; if the batch fails, each report is written alone, so one
// bad report (a repeated idempotency key, a photo taken meanwhile) fails
// only itself.

// maxGroup bounds the reports written in one transaction.
const maxGroup = 64

// groupCommitters is how many batches are written at once: while one waits
// for its COMMIT, the next one is being sent.
const groupCommitters = 2

// group holds rows written together: one report's, or a batch's.
type group struct {
	incidents []incidentRow
	events    []eventRow
	audit     []auditRow
	idem      []idempotencyRow
	attaches  []attach
	jobs      []jobRow // index recomputations (a late report)
}

// attach is a photo attachment: an update that must change exactly the
// listed photos.
type attach struct {
	caseKind, caseID, uploaderID string
	photoIDs                     []string
}

// pendingGroup is a report's rows waiting for a committer.
type pendingGroup struct {
	g    *group
	done chan error
}

// committers write groups; started on first use.
type committers struct {
	start sync.Once
	queue chan *pendingGroup
	quit  chan struct{}
	stop  sync.Once
	wg    sync.WaitGroup
}

// reportRows is the rows a report writes.
func reportRows(r incident.Report) *group {
	g := &group{
		incidents: []incidentRow{incidentToRow(r.Incident)},
		events:    []eventRow{eventToRow("incident", r.Event)},
		audit:     []auditRow{auditToRow(r.Audit)},
	}
	if r.Receipt != nil {
		g.idem = []idempotencyRow{finishedRow(*r.Receipt)}
	}
	if inc := r.Incident; len(inc.PhotoIDs) > 0 {
		g.attaches = []attach{{caseKind: "incident", caseID: inc.ID, uploaderID: inc.ReporterID, photoIDs: inc.PhotoIDs}}
	}
	for _, j := range r.Recompute {
		g.jobs = append(g.jobs, jobRow{ID: j.ID, PeriodKind: j.PeriodKind, Period: j.Period, Reason: j.Reason,
			RequestedBy: j.RequestedBy, CreatedAt: utc(j.CreatedAt)})
	}
	return g
}

// CreateReport writes a new report as incident.Store describes: in the
// context's transaction when there is one; otherwise through a committer,
// in one transaction with the other reports waiting at that moment.
func (db *DB) CreateReport(ctx context.Context, r incident.Report) error {
	g := reportRows(r)
	var err error
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		err = translate(db.insertAll(ctx, tx.Statement.ConnPool, g))
	} else {
		err = db.commit(ctx, g)
	}
	if r.Receipt != nil && errors.Is(err, errs.ErrConflict) && db.keyTaken(ctx, *r.Receipt) {
		return fmt.Errorf("report %s: %w", r.Incident.ID, idempotency.ErrKeyTaken)
	}
	return err
}

// keyTaken reports whether rec's key has a record, after a write of rec
// failed on a unique key. The read locks (MySQL), so that inside a
// transaction it sees the latest committed row, not the snapshot's.
func (db *DB) keyTaken(ctx context.Context, rec idempotency.Record) bool {
	var n int64
	err := db.forUpdate(db.conn(ctx).Model(&idempotencyRow{}).Where("user_id = ? AND key_hash = ?", rec.UserID, rec.KeyHash)).
		Count(&n).Error
	return err == nil && n > 0
}

// commit hands g to the committers and returns once it is committed with
// the batch it joined, or written alone after the batch failed (with its
// own error then). Returns errs.ErrUnavailable when ctx ends first: g may
// still commit.
func (db *DB) commit(ctx context.Context, g *group) error {
	db.group.start.Do(func() {
		for range groupCommitters {
			db.group.wg.Add(1)
			go db.commitGroups()
		}
	})
	p := &pendingGroup{g: g, done: make(chan error, 1)}
	select {
	case db.group.queue <- p:
	case <-db.group.quit:
		return fmt.Errorf("the store is closing: %w", errs.ErrUnavailable)
	case <-ctx.Done():
		return fmt.Errorf("waiting to write: %v: %w", ctx.Err(), errs.ErrUnavailable)
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("waiting for the commit: %v: %w", ctx.Err(), errs.ErrUnavailable)
	}
}

// commitGroups is one committer: it takes a waiting group and every other
// one waiting then (up to maxGroup) and writes them together.
func (db *DB) commitGroups() {
	defer db.group.wg.Done()
	for {
		var batch []*pendingGroup
		select {
		case <-db.group.quit:
			return
		case p := <-db.group.queue:
			batch = append(batch, p)
		}
	more:
		for len(batch) < maxGroup {
			select {
			case p := <-db.group.queue:
				batch = append(batch, p)
			default:
				break more
			}
		}
		db.writeGroups(batch)
	}
}

// writeGroups writes the batch in one transaction; if that fails, each
// group alone, so that each request gets its own answer.
func (db *DB) writeGroups(batch []*pendingGroup) {
	gs := make([]*group, len(batch))
	for i, p := range batch {
		gs[i] = p.g
	}
	// Background: the requests' own contexts may end while others in the
	// batch still wait; the driver's timeouts bound a stalled database.
	err := db.writeTogether(context.Background(), gs)
	if err == nil || len(batch) == 1 {
		for _, p := range batch {
			p.done <- err
		}
		return
	}
	for _, p := range batch {
		p.done <- db.writeTogether(context.Background(), []*group{p.g})
	}
}

// writeTogether makes the writes of gs in one transaction: the idempotency
// records first (a repeated key fails before any other work), then one
// multi-row INSERT per table, then the checked updates.
func (db *DB) writeTogether(ctx context.Context, gs []*group) error {
	var all group
	for _, g := range gs {
		all.idem = append(all.idem, g.idem...)
		all.incidents = append(all.incidents, g.incidents...)
		all.events = append(all.events, g.events...)
		all.audit = append(all.audit, g.audit...)
		all.attaches = append(all.attaches, g.attaches...)
		all.jobs = append(all.jobs, g.jobs...)
	}
	// One order for the unique keys, so that two batches holding the same
	// keys wait for each other instead of deadlocking.
	slices.SortFunc(all.idem, func(a, b idempotencyRow) int {
		return cmp.Or(cmp.Compare(a.UserID, b.UserID), cmp.Compare(a.KeyHash, b.KeyHash))
	})
	if db.batch != nil && len(all.jobs) == 0 {
		return translate(db.writeBatch(ctx, &all))
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	if err := db.insertAll(ctx, tx, &all); err != nil {
		_ = tx.Rollback()
		return translate(err)
	}
	return translate(tx.Commit())
}

// writeBatch sends the transaction of a batch as one query of several
// statements — START TRANSACTION, the INSERTs, the photo updates and COMMIT
// — so that it costs one round trip instead of one per statement. With
// photo updates the COMMIT waits for a second round trip, after their
// counts are checked. On an error from the server the transaction is
// rolled back on the same connection, or the connection is dropped when
// that fails too. MySQL only; an index job needs a locking read first and
// goes through insertAll.
//
// As with any COMMIT, a connection lost while the query runs leaves the
// outcome unknown: the server may still commit what it received. The
// requests are then answered 503 and their retries find their idempotency
// records (the stored answer) or nothing (a clean retry); a batch's lock
// waits end before the client's read timeout (store.Open), so a slow lock
// does not lead there.
func (db *DB) writeBatch(ctx context.Context, all *group) error {
	var q batchQuery
	q.add("START TRANSACTION")
	for _, ins := range all.inserts() {
		if ins.n > 0 {
			q.sql.WriteString("; ")
			ins.write(&q)
		}
	}
	// checks[i] is the index of the i-th attach's UPDATE among the statements.
	checks := make([]int, len(all.attaches))
	for i, a := range all.attaches {
		q.sql.WriteString("; ")
		checks[i] = q.stmts
		stmt, args := attachStatement(a)
		q.add(stmt, args...)
	}
	if len(checks) == 0 {
		q.sql.WriteString("; COMMIT")
	}

	err := db.sendBatch(ctx, &q, all.attaches, checks)
	if errors.Is(err, driver.ErrBadConn) {
		// The driver says so only when nothing was sent (a connection
		// the server or a proxy closed while idle): safe to send again.
		err = db.sendBatch(ctx, &q, all.attaches, checks)
	}
	return err
}

// sendBatch runs q on a connection of the committers' pool; checks[i] is
// the index among q's statements of the UPDATE of attaches[i].
func (db *DB) sendBatch(ctx context.Context, q *batchQuery, attaches []attach, checks []int) error {
	conn, err := db.batch.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		ex := dc.(driver.ExecerContext)
		args, err := q.namedValues(dc.(driver.NamedValueChecker))
		if err != nil {
			return err
		}
		abort := func(cause error) error {
			if _, err := ex.ExecContext(context.Background(), "ROLLBACK", nil); err != nil {
				_ = dc.(driver.Conn).Close() // dropped from the pool; the server rolls back
			}
			return cause
		}
		res, err := ex.ExecContext(ctx, q.sql.String(), args)
		if err != nil {
			return abort(err)
		}
		if len(checks) == 0 {
			return nil
		}
		affected := res.(mysql.Result).AllRowsAffected()
		for i, a := range attaches {
			if n := checks[i]; n >= len(affected) || int(affected[n]) != len(a.photoIDs) {
				return abort(errAttach)
			}
		}
		if _, err := ex.ExecContext(ctx, "COMMIT", nil); err != nil {
			return abort(err)
		}
		return nil
	})
}

// sqlTx is a transaction to write in: an *sql.Tx, or the connection of a
// GORM transaction (its Statement.ConnPool).
type sqlTx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// insertAll runs the INSERTs and checked updates of a batch in tx, one
// statement at a time (SQLite, a batch with an index job, or a report
// written inside a caller's transaction).
func (db *DB) insertAll(ctx context.Context, tx sqlTx, all *group) error {
	exec := func(q string, args ...any) (int64, error) {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	}
	for _, ins := range all.inserts() {
		if ins.n == 0 {
			continue
		}
		var q batchQuery
		ins.write(&q)
		if _, err := exec(q.sql.String(), q.args...); err != nil {
			return err
		}
	}
	for _, a := range all.attaches {
		if err := attachPhotos(exec, a); err != nil {
			return err
		}
	}
	lock := ""
	if db.dialect == "mysql" {
		lock = " FOR UPDATE"
	}
	for _, j := range all.jobs {
		// As QueueJob: a pending job of the period already covers it.
		var id string
		err := tx.QueryRowContext(ctx, "SELECT id FROM index_jobs WHERE period_kind = ? AND period = ? AND status = 'pending' LIMIT 1"+lock,
			j.PeriodKind, j.Period).Scan(&id)
		if err == nil {
			continue
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO index_jobs (id, period_kind, period, status, reason, requested_by, owner, attempts, error, created_at) "+
			"VALUES (?, ?, ?, 'pending', ?, ?, '', 0, '', ?)", j.ID, j.PeriodKind, j.Period, j.Reason, j.RequestedBy, j.CreatedAt); err != nil {
			return err
		}
	}
	return nil
}

// multiInsert is one multi-row INSERT of a batch; values gives the i-th
// row's values in the order of cols. The statements are built here rather
// than by GORM: for a batch of reports GORM's reflection cost more CPU than
// the database spent on the rows.
type multiInsert struct {
	table  string
	cols   []string
	n      int
	values func(i int) []any
}

// inserts lists the batch's INSERTs in the order they run: the idempotency
// records first, so that a repeated key fails before any other work.
func (all *group) inserts() []multiInsert {
	return []multiInsert{
		{"idempotency_keys", []string{"user_id", "key_hash", "request_hash", "owner", "locked_until", "done",
			"response_status", "response_headers", "response_body", "created_at"}, len(all.idem),
			func(i int) []any {
				r := &all.idem[i]
				return []any{r.UserID, r.KeyHash, r.RequestHash, r.Owner, r.LockedUntil, r.Done, r.ResponseStatus,
					r.ResponseHeaders, r.ResponseBody, r.CreatedAt}
			}},
		{"incidents", []string{"id", "case_no", "category", "severity", "status", "description", "lat", "lng",
			"address", "region_code", "community_code", "township_code", "county_code", "occurred_at", "reported_at",
			"client_created_at", "reporter_id", "photo_ids", "version", "created_at", "updated_at"}, len(all.incidents),
			func(i int) []any {
				r := &all.incidents[i]
				return []any{r.ID, r.CaseNo, r.Category, r.Severity, r.Status, r.Description, r.Lat, r.Lng, r.Address,
					r.RegionCode, r.CommunityCode, r.TownshipCode, r.CountyCode, r.OccurredAt, r.ReportedAt,
					r.ClientCreatedAt, r.ReporterID, r.PhotoIDs, r.Version, r.CreatedAt, r.UpdatedAt}
			}},
		{"case_events", []string{"id", "case_id", "case_kind", "actor_id", "action", "from_status", "to_status",
			"note", "request_id", "created_at"}, len(all.events),
			func(i int) []any {
				r := &all.events[i]
				return []any{r.ID, r.CaseID, r.CaseKind, r.ActorID, r.Action, r.FromStatus, r.ToStatus, r.Note,
					r.RequestID, r.CreatedAt}
			}},
		{"audit_log", []string{"id", "at", "actor_id", "actor_role", "action", "entity", "entity_id", "request_id",
			"client_ip", "details", "region_path"}, len(all.audit),
			func(i int) []any {
				r := &all.audit[i]
				return []any{r.ID, r.At, r.ActorID, r.ActorRole, r.Action, r.Entity, r.EntityID, r.RequestID,
					r.ClientIP, r.Details, r.RegionPath}
			}},
	}
}

// write appends the INSERT to q.
func (ins multiInsert) write(q *batchQuery) {
	tuple := "(?" + strings.Repeat(", ?", len(ins.cols)-1) + ")"
	q.sql.Grow(64 + ins.n*len(tuple))
	q.sql.WriteString("INSERT INTO " + ins.table + " (" + strings.Join(ins.cols, ", ") + ") VALUES ")
	for i := range ins.n {
		if i > 0 {
			q.sql.WriteString(", ")
		}
		q.sql.WriteString(tuple)
		q.args = append(q.args, ins.values(i)...)
	}
	q.stmts++
}

// batchQuery is SQL text of one or more statements with its arguments.
type batchQuery struct {
	sql   strings.Builder
	args  []any
	stmts int // statements written by add and write, for AllRowsAffected
}

// add appends one statement.
func (q *batchQuery) add(stmt string, args ...any) {
	q.sql.WriteString(stmt)
	q.args = append(q.args, args...)
	q.stmts++
}

// namedValues converts the arguments as database/sql would before handing
// them to the driver.
func (q *batchQuery) namedValues(check driver.NamedValueChecker) ([]driver.NamedValue, error) {
	nv := make([]driver.NamedValue, len(q.args))
	for i, a := range q.args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
		if err := check.CheckNamedValue(&nv[i]); err != nil {
			return nil, fmt.Errorf("argument %d: %w", i+1, err)
		}
	}
	return nv, nil
}

// closeGroups stops the committers; groups still queued get ErrUnavailable.
func (db *DB) closeGroups() {
	db.group.stop.Do(func() { close(db.group.quit) })
	db.group.wg.Wait()
	for {
		select {
		case p := <-db.group.queue:
			p.done <- fmt.Errorf("the store closed: %w", errs.ErrUnavailable)
		default:
			return
		}
	}
}

func newCommitters() *committers {
	return &committers{queue: make(chan *pendingGroup, 4*maxGroup), quit: make(chan struct{})}
}
