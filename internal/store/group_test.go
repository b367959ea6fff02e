package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"pingan/internal/audit"
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
