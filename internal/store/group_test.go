package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"pingan/internal/audit"
	"pingan/internal/errs"
	"pingan/internal/idempotency"
	"pingan/internal/incident"
	"pingan/internal/photo"
	"pingan/internal/ranking"
	"pingan/internal/store"
	"pingan/internal/user"
)

// reports makes the reports of one uploader for the tests of CreateReport:
// each with its audit entry (action test.batch, entity id its key) and,
// when given a key, its receipt.
type reports struct {
	t        *testing.T
	db       *store.DB
	now      time.Time
	uploader string
	serial   int
}

func newReports(t *testing.T, db *store.DB) *reports {
	t.Helper()
	r := &reports{t: t, db: db, now: time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC), uploader: "0193f1b2-0000-7000-8000-00000000b000"}
	if err := db.CreateUser(context.Background(), user.User{ID: r.uploader, Username: "batcher", Role: "gridworker",
		RegionCode: "370500", CreatedAt: r.now, UpdatedAt: r.now}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"p1", "p2"} {
		if err := db.CreatePhoto(context.Background(), photo.Photo{ID: id, UploaderID: r.uploader, ObjectKey: "photos/" + id,
			ThumbKey: "photos/" + id + ".thumb", ContentType: "image/jpeg", Size: 1, SHA256: id, CreatedAt: r.now}); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// record is the finished record of key.
func (r *reports) record(key string) idempotency.Record {
	return idempotency.Record{UserID: r.uploader, KeyHash: key, RequestHash: "h-" + key, Owner: "o", Done: true,
		Status: 201, Headers: map[string]string{"Location": "/x/" + key}, Body: []byte(`{"key":"` + key + `"}`),
		LockedUntil: r.now, CreatedAt: r.now}
}

// report is a report with key's receipt, attaching photos.
func (r *reports) report(key string, photos ...string) incident.Report {
	r.serial++
	id := fmt.Sprintf("0193f1b2-0000-7000-8000-0000000c%04d", r.serial)
	if photos == nil {
		photos = []string{}
	}
	rec := r.record(key)
	return incident.Report{
		Incident: incident.Incident{ID: id, CaseNo: fmt.Sprintf("SJ-370502-20261127-%04d", r.serial), Category: "public_order",
			Severity: incident.Low, Status: incident.Reported, Description: "test " + key, RegionCode: "g", CommunityCode: "c",
			TownshipCode: "t", CountyCode: "370502", OccurredAt: r.now, ReportedAt: r.now, ReporterID: r.uploader,
			PhotoIDs: photos, Version: 1, CreatedAt: r.now, UpdatedAt: r.now},
		Event: incident.Event{ID: fmt.Sprintf("0193f1b2-0000-7000-8000-0000000d%04d", r.serial), CaseID: id, ActorID: r.uploader,
			Action: "create", To: incident.Reported, CreatedAt: r.now},
		Audit: audit.Entry{ID: fmt.Sprintf("0193f1b2-0000-7000-8000-0000000b%04d", r.serial), At: r.now, ActorID: r.uploader,
			Action: "test.batch", Entity: "incident", EntityID: key},
		Receipt: &rec,
	}
}

// written lists the keys of the reports written, checking that each has
// all its rows: its incident, its first event and its one receipt.
func (r *reports) written() []string {
	r.t.Helper()
	rows, err := r.db.SQL().Query("SELECT entity_id FROM audit_log WHERE action = 'test.batch' ORDER BY entity_id")
	if err != nil {
		r.t.Fatal(err)
	}
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			r.t.Fatal(err)
		}
		keys = append(keys, k)
	}
	if err := rows.Close(); err != nil {
		r.t.Fatal(err)
	}
	for _, k := range keys {
		var n int
		if err := r.db.SQL().QueryRow(`SELECT COUNT(*) FROM idempotency_keys k, incidents i, case_events e
			WHERE k.key_hash = ? AND k.done AND i.description = ? AND e.case_id = i.id AND e.action = 'create'`, k, "test "+k).Scan(&n); err != nil || n != 1 {
			r.t.Fatalf("key %s: audit entry without its incident, event and record (%d, %v)", k, n, err)
		}
	}
	var incidents int
	if err := r.db.SQL().QueryRow("SELECT COUNT(*) FROM incidents WHERE description LIKE 'test %'").Scan(&incidents); err != nil || incidents != len(keys) {
		r.t.Fatalf("%d incidents for %d reports (%v)", incidents, len(keys), err)
	}
	return keys
}

// owner is the case a photo is attached to, or "".
func (r *reports) owner(photoID string) string {
	r.t.Helper()
	var caseID sql.NullString
	if err := r.db.SQL().QueryRow("SELECT case_id FROM photos WHERE id = ?", photoID).Scan(&caseID); err != nil {
		r.t.Fatal(err)
	}
	return caseID.String
}

// CreateReport writes everything a report carries, or nothing, and says
// why it wrote nothing.
func TestCreateReport(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		bg := context.Background()
		rs := newReports(t, db)

		// A late report with a photo: every row, the photo attached, the
		// index jobs queued, and the receipt stored finished.
		first := rs.report("a", "p1")
		first.Recompute = []ranking.Job{
			{ID: "0193f1b2-0000-7000-8000-0000000e0001", PeriodKind: "day", Period: "2026-11-20", Reason: "late_data", CreatedAt: rs.now},
			{ID: "0193f1b2-0000-7000-8000-0000000e0002", PeriodKind: "month", Period: "2026-10", Reason: "late_data", CreatedAt: rs.now},
		}
		if err := db.CreateReport(bg, first); err != nil {
			t.Fatal(err)
		}
		if got := rs.written(); !slices.Equal(got, []string{"a"}) || rs.owner("p1") != first.Incident.ID {
			t.Fatalf("written %v, p1 owned by %q", got, rs.owner("p1"))
		}
		got, claimed, err := db.ClaimIdempotencyKey(bg, rs.record("a"), rs.now)
		if err != nil || claimed || !got.Done || got.Status != 201 || string(got.Body) != `{"key":"a"}` || got.Headers["Location"] != "/x/a" {
			t.Fatalf("receipt: %+v claimed=%v %v", got, claimed, err)
		}
		jobs := func() int {
			var n int
			if err := db.SQL().QueryRow("SELECT COUNT(*) FROM index_jobs WHERE status = 'pending' AND reason = 'late_data'").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := jobs(); n != 2 {
			t.Fatalf("%d index jobs, want 2", n)
		}

		// The same key again: ErrKeyTaken, which is a conflict, and nothing
		// of the second report.
		again := rs.report("a")
		again.Audit.EntityID = "a-again"
		err = db.CreateReport(bg, again)
		if !errors.Is(err, idempotency.ErrKeyTaken) || !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("repeated key: %v, want ErrKeyTaken", err)
		}
		// Another conflict is not the key's.
		dup := rs.report("b")
		dup.Incident.CaseNo = first.Incident.CaseNo
		if err := db.CreateReport(bg, dup); !errors.Is(err, errs.ErrConflict) || errors.Is(err, idempotency.ErrKeyTaken) {
			t.Fatalf("case number taken: %v, want a conflict that is not ErrKeyTaken", err)
		}
		// A photo taken: its field error, and nothing written.
		var fe errs.FieldErrors
		if err := db.CreateReport(bg, rs.report("c", "p1")); !errors.As(err, &fe) || fe["photo_ids"] == "" {
			t.Fatalf("photo taken: %v, want a photo_ids error", err)
		}
		if got := rs.written(); !slices.Equal(got, []string{"a"}) {
			t.Fatalf("after the refusals: %v written", got)
		}
		if _, claimed, err := db.ClaimIdempotencyKey(bg, rs.record("c"), rs.now); err != nil || !claimed {
			t.Fatalf("the refused report's key was kept (claimed=%v, %v)", claimed, err)
		}

		// A late report of periods already pending adds no job; one with no
		// receipt writes none.
		late := rs.report("d")
		late.Receipt, late.Incident.Description, late.Audit.Action = nil, "late", "test.late" // not counted by written
		late.Recompute = first.Recompute[:1]
		late.Recompute[0].ID = "0193f1b2-0000-7000-8000-0000000e0003"
		if err := db.CreateReport(bg, late); err != nil {
			t.Fatal(err)
		}
		if n := jobs(); n != 2 {
			t.Fatalf("%d index jobs after a report of a pending period, want 2", n)
		}
		var keys int
		if err := db.SQL().QueryRow("SELECT COUNT(*) FROM idempotency_keys WHERE key_hash = 'd'").Scan(&keys); err != nil || keys != 0 {
			t.Fatalf("a report without a receipt wrote %d records (%v)", keys, err)
		}

		// Inside a transaction it writes in that transaction.
		inTx := rs.report("e", "p2")
		err = db.InTx(bg, func(ctx context.Context) error {
			if err := db.CreateReport(ctx, inTx); err != nil {
				return err
			}
			return errors.New("changed my mind")
		})
		if err == nil || !slices.Equal(rs.written(), []string{"a"}) || rs.owner("p2") != "" {
			t.Fatalf("rolled back: %v, written %v, p2 owned by %q", err, rs.written(), rs.owner("p2"))
		}
		if err := db.InTx(bg, func(ctx context.Context) error { return db.CreateReport(ctx, inTx) }); err != nil {
			t.Fatal(err)
		}
		if got := rs.written(); !slices.Equal(got, []string{"a", "e"}) || rs.owner("p2") != inTx.Incident.ID {
			t.Fatalf("committed: written %v, p2 owned by %q", got, rs.owner("p2"))
		}
		err = db.InTx(bg, func(ctx context.Context) error { return db.CreateReport(ctx, rs.report("e")) })
		if !errors.Is(err, idempotency.ErrKeyTaken) {
			t.Fatalf("repeated key in a transaction: %v, want ErrKeyTaken", err)
		}
	})
}

// A batch is one transaction: on MySQL one query of several statements
// (START TRANSACTION … COMMIT), on SQLite one statement at a time. Either
// way a report that fails takes the whole batch back with it, and leaves
// no transaction open on the connection.
func TestGroupBatchIsAllOrNothing(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		bg := context.Background()
		rs := newReports(t, db)
		noOpenTransaction := func() {
			t.Helper()
			if db.Dialect() != "mysql" {
				return
			}
			var n int
			if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM information_schema.innodb_trx t
				JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id WHERE p.db = DATABASE()`).Scan(&n); err != nil || n != 0 {
				t.Fatalf("%d transactions left open (%v)", n, err)
			}
		}

		// A repeated key in the middle of a batch: nothing of the batch stays.
		if _, _, err := db.ClaimIdempotencyKey(bg, rs.record("taken"), rs.now); err != nil {
			t.Fatal(err)
		}
		if err := db.WriteTogether(rs.report("a"), rs.report("taken"), rs.report("b")); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("batch with a repeated key: %v, want ErrConflict", err)
		}
		if got := rs.written(); len(got) != 0 {
			t.Fatalf("after the failed batch: %v written", got)
		}
		noOpenTransaction()

		// Two reports claiming one photo: the batch fails with the photo's
		// error and the photo stays free.
		err := db.WriteTogether(rs.report("c", "p1"), rs.report("d", "p1"))
		var fe errs.FieldErrors
		if !errors.As(err, &fe) || fe["photo_ids"] == "" {
			t.Fatalf("batch with a photo twice: %v, want a photo_ids error", err)
		}
		if got := rs.written(); len(got) != 0 || rs.owner("p1") != "" {
			t.Fatalf("after the failed batch: %v written, p1 owned by %q", got, rs.owner("p1"))
		}
		noOpenTransaction()

		// Alone, the first gets the photo and the second is refused.
		c := rs.report("c", "p1")
		if err := db.WriteTogether(c); err != nil {
			t.Fatal(err)
		}
		if err := db.WriteTogether(rs.report("d", "p1")); !errors.As(err, &fe) {
			t.Fatalf("photo taken: %v, want a photo_ids error", err)
		}
		if got := rs.written(); !slices.Equal(got, []string{"c"}) || rs.owner("p1") != c.Incident.ID {
			t.Fatalf("written %v, p1 owned by %q; want [c] and %s", got, rs.owner("p1"), c.Incident.ID)
		}

		// A batch that mixes reports with and without photos is written whole.
		f := rs.report("f", "p2")
		if err := db.WriteTogether(rs.report("e"), f, rs.report("g")); err != nil {
			t.Fatal(err)
		}
		if got := rs.written(); !slices.Equal(got, []string{"c", "e", "f", "g"}) || rs.owner("p2") != f.Incident.ID {
			t.Fatalf("written %v, p2 owned by %q; want [c e f g] and %s", got, rs.owner("p2"), f.Incident.ID)
		}
		noOpenTransaction()

		// Through the committers, CreateReport names the key as the cause.
		if err := db.CreateReport(bg, rs.report("taken")); !errors.Is(err, idempotency.ErrKeyTaken) {
			t.Fatalf("CreateReport with a key taken: %v, want ErrKeyTaken", err)
		}

		if db.Dialect() != "mysql" {
			return
		}
		// The server (or a proxy) cuts the idle connections: the next batch
		// still goes through, once.
		conn, err := db.SQL().Conn(bg)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		rows, err := conn.QueryContext(bg, "SELECT id FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID()")
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if len(ids) == 0 {
			t.Fatal("no idle connections to cut")
		}
		for _, id := range ids {
			if _, err := conn.ExecContext(bg, fmt.Sprintf("KILL CONNECTION %d", id)); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.WriteTogether(rs.report("h")); err != nil {
			t.Fatalf("batch after the connections were cut: %v", err)
		}
		if got := rs.written(); !slices.Equal(got, []string{"c", "e", "f", "g", "h"}) {
			t.Fatalf("written %v, want [c e f g h]", got)
		}

		// Only the committers' connections take several statements in one
		// query, although the test DSN asks for it on every connection.
		if _, err := db.SQL().ExecContext(bg, "DO 1; DO 2"); err == nil {
			t.Fatal("the main pool ran two statements in one query")
		}
	})
}
