package store

// How the committers of group.go put one batch of reports into SQL: one
// multi-row INSERT per table, the photo attachments as checked UPDATEs, the
// index jobs, and on MySQL the whole transaction as one query.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"
)

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
		// As QueueJob: a pending job of the period already covers it, unless
		// it is the backfill's, which waits behind every other.
		var id string
		err := tx.QueryRowContext(ctx, "SELECT id FROM index_jobs WHERE period_kind = ? AND period = ? AND status = 'pending' "+
			"AND reason <> 'backfill' LIMIT 1"+lock, j.PeriodKind, j.Period).Scan(&id)
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
			"geohash", "address", "region_code", "community_code", "township_code", "county_code", "occurred_at", "reported_at",
			"client_created_at", "reporter_id", "photo_ids", "version", "created_at", "updated_at"}, len(all.incidents),
			func(i int) []any {
				r := &all.incidents[i]
				return []any{r.ID, r.CaseNo, r.Category, r.Severity, r.Status, r.Description, r.Lat, r.Lng, r.Geohash, r.Address,
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
