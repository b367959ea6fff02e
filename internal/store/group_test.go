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
	"pingan/internal/photo"
	"pingan/internal/store"
	"pingan/internal/user"
)

func TestGroupRefusesWhatItCannotHold(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := db.Group(context.Background())
		now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
		entry := audit.Entry{ID: "0193f1b2-0000-7000-8000-00000000a001", At: now, Action: "test.group", Entity: "user", EntityID: "u1"}
		err := db.InTx(ctx, func(ctx context.Context) error {
			if err := db.AppendAudit(ctx, entry); err != nil { // collected
				return err
			}
			// A write the group cannot carry: it must not run outside the transaction.
			return db.CreateUser(ctx, user.User{ID: "0193f1b2-0000-7000-8000-00000000a002", Username: "grouped",
				Role: "admin", RegionCode: "370500", CreatedAt: now, UpdatedAt: now})
		})
		if !errors.Is(err, store.ErrNotGroupable) {
			t.Fatalf("InTx: %v, want ErrNotGroupable", err)
		}
		if err := db.CommitGroup(ctx); !errors.Is(err, store.ErrNotGroupable) {
			t.Fatalf("CommitGroup: %v, want ErrNotGroupable", err)
		}
		for table, where := range map[string]string{"users": "username = 'grouped'", "audit_log": "action = 'test.group'"} {
			var n int
			if err := db.SQL().QueryRow("SELECT COUNT(*) FROM " + table + " WHERE " + where).Scan(&n); err != nil || n != 0 {
				t.Errorf("%s: %d rows, %v; want none", table, n, err)
			}
		}

		// The same audit entry alone is written by the group.
		ok := db.Group(context.Background())
		if err := db.InTx(ok, func(ctx context.Context) error { return db.AppendAudit(ctx, entry) }); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.SQL().QueryRow("SELECT COUNT(*) FROM audit_log WHERE action = 'test.group'").Scan(&n); err != nil || n != 0 {
			t.Fatalf("written before CommitGroup: %d %v", n, err)
		}
		if err := db.CommitGroup(ok); err != nil {
			t.Fatal(err)
		}
		if err := db.SQL().QueryRow("SELECT COUNT(*) FROM audit_log WHERE action = 'test.group'").Scan(&n); err != nil || n != 1 {
			t.Fatalf("after CommitGroup: %d %v", n, err)
		}
	})
}

// A batch is one transaction: on MySQL one query of several statements
// (START TRANSACTION … COMMIT), on SQLite one statement at a time. Either
// way a request that fails takes the whole batch back with it, and leaves
// no transaction open on the connection.
func TestGroupBatchIsAllOrNothing(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		bg := context.Background()
		now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
		const uploader = "0193f1b2-0000-7000-8000-00000000b000"
		if err := db.CreateUser(bg, user.User{ID: uploader, Username: "batcher", Role: "gridworker",
			RegionCode: "370500", CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"p1", "p2"} {
			if err := db.CreatePhoto(bg, photo.Photo{ID: id, UploaderID: uploader, ObjectKey: "photos/" + id,
				ThumbKey: "photos/" + id + ".thumb", ContentType: "image/jpeg", Size: 1, SHA256: id, CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		record := func(key string) idempotency.Record {
			return idempotency.Record{UserID: uploader, KeyHash: key, RequestHash: "h-" + key, Owner: "o", Done: true,
				Status: 201, Body: []byte(`{"key":"` + key + `"}`), LockedUntil: now, CreatedAt: now}
		}
		serial := 0
		// request collects what a report writes: its idempotency record, an
		// audit entry and, when given, its photos.
		request := func(key string, photos ...string) context.Context {
			ctx := db.Group(bg)
			serial++
			entry := audit.Entry{ID: fmt.Sprintf("0193f1b2-0000-7000-8000-0000000b%04d", serial), At: now,
				Action: "test.batch", Entity: "incident", EntityID: key}
			err := db.InTx(ctx, func(ctx context.Context) error {
				if err := db.InsertIdempotencyKey(ctx, record(key)); err != nil {
					return err
				}
				if err := db.AppendAudit(ctx, entry); err != nil {
					return err
				}
				if len(photos) > 0 {
					return db.AttachPhotos(ctx, "incident", "case-"+key, uploader, photos)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return ctx
		}
		written := func() []string {
			rows, err := db.SQL().Query("SELECT entity_id FROM audit_log WHERE action = 'test.batch' ORDER BY entity_id")
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for rows.Next() {
				var k string
				if err := rows.Scan(&k); err != nil {
					t.Fatal(err)
				}
				keys = append(keys, k)
			}
			if err := rows.Close(); err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				var n int
				if err := db.SQL().QueryRow("SELECT COUNT(*) FROM idempotency_keys WHERE key_hash = ?", k).Scan(&n); err != nil || n != 1 {
					t.Fatalf("key %s: audit entry without its one idempotency record (%d, %v)", k, n, err)
				}
			}
			return keys
		}
		owner := func(photoID string) string {
			var caseID sql.NullString
			if err := db.SQL().QueryRow("SELECT case_id FROM photos WHERE id = ?", photoID).Scan(&caseID); err != nil {
				t.Fatal(err)
			}
			return caseID.String
		}
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
		if err := db.InsertIdempotencyKey(bg, record("taken")); err != nil {
			t.Fatal(err)
		}
		if err := db.WriteTogether(request("a"), request("taken"), request("b")); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("batch with a repeated key: %v, want ErrConflict", err)
		}
		if got := written(); len(got) != 0 {
			t.Fatalf("after the failed batch: %v written", got)
		}
		noOpenTransaction()

		// Two reports claiming one photo: the batch fails with the photo's
		// error and the photo stays free.
		err := db.WriteTogether(request("c", "p1"), request("d", "p1"))
		var fe errs.FieldErrors
		if !errors.As(err, &fe) || fe["photo_ids"] == "" {
			t.Fatalf("batch with a photo twice: %v, want a photo_ids error", err)
		}
		if got := written(); len(got) != 0 || owner("p1") != "" {
			t.Fatalf("after the failed batch: %v written, p1 owned by %q", got, owner("p1"))
		}
		noOpenTransaction()

		// Alone, the first gets the photo and the second is refused.
		if err := db.WriteTogether(request("c", "p1")); err != nil {
			t.Fatal(err)
		}
		if err := db.WriteTogether(request("d", "p1")); !errors.As(err, &fe) {
			t.Fatalf("photo taken: %v, want a photo_ids error", err)
		}
		if got := written(); !slices.Equal(got, []string{"c"}) || owner("p1") != "case-c" {
			t.Fatalf("written %v, p1 owned by %q; want [c] and case-c", got, owner("p1"))
		}

		// A batch that mixes reports with and without photos is written whole.
		if err := db.WriteTogether(request("e"), request("f", "p2"), request("g")); err != nil {
			t.Fatal(err)
		}
		if got := written(); !slices.Equal(got, []string{"c", "e", "f", "g"}) || owner("p2") != "case-f" {
			t.Fatalf("written %v, p2 owned by %q; want [c e f g] and case-f", got, owner("p2"))
		}
		noOpenTransaction()

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
		if err := db.WriteTogether(request("h")); err != nil {
			t.Fatalf("batch after the connections were cut: %v", err)
		}
		if got := written(); !slices.Equal(got, []string{"c", "e", "f", "g", "h"}) {
			t.Fatalf("written %v, want [c e f g h]", got)
		}

		// Only the committers' connections take several statements in one
		// query, although the test DSN asks for it on every connection.
		if _, err := db.SQL().ExecContext(bg, "DO 1; DO 2"); err == nil {
			t.Fatal("the main pool ran two statements in one query")
		}
	})
}
