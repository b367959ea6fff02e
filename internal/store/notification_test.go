package store

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"pingan/internal/notify"
	"pingan/internal/pii"
	"pingan/internal/testenv"
)

// TestNotificationQueriesUseIndexes checks on MariaDB, with EXPLAIN, that
// the inbox, its unread filter, its next page, a stream's poll and the
// webhook worker's claim read through an index in index order.
func TestNotificationQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	sealer, _ := pii.NewSealer(bytes.Repeat([]byte{1}, 32))
	db, err := Open(ctx, testenv.MySQLDSN(t), sealer)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := make([]notificationRow, 0, 6000)
	deliveries := make([]deliveryRow, 0, 6000)
	for i := 0; i < 6000; i++ {
		at := base.Add(time.Duration(i) * time.Minute)
		id := fmt.Sprintf("0193f1b2-%04x-7000-8000-%012d", i/1000, i)
		r := notificationRow{ID: id, UserID: fmt.Sprintf("user-%d", i%50), Kind: notify.KindWarning, Title: "预警", CreatedAt: at}
		if i%3 == 0 {
			r.ReadAt = &at
		}
		rows = append(rows, r)
		status := []string{notify.DeliveryDelivered, notify.DeliveryDelivered, notify.DeliveryFailed, notify.DeliveryPending}[i%4]
		deliveries = append(deliveries, deliveryRow{ID: id, NotificationID: id, Body: "{}", Status: status, NextAttemptAt: at,
			CreatedAt: at, UpdatedAt: at})
	}
	if err := db.gorm.CreateInBatches(rows, 500).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.gorm.CreateInBatches(deliveries, 500).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.gorm.Exec("ANALYZE TABLE notifications, webhook_deliveries").Error; err != nil {
		t.Fatal(err)
	}
	var notices []notificationRow
	var due []deliveryRow
	// The check can fail: a query on an unindexed column scans the table.
	if plan := explainInto(t, db, db.gorm.Model(&notificationRow{}).Where("title = ?", "x"), &notices); len(plan) == 0 || plan[0]["type"] != "ALL" {
		t.Fatalf("control query should scan: %v", plan)
	}
	for _, c := range []struct {
		name string
		q    *gorm.DB
		dst  any
	}{
		{"inbox", db.notificationsQuery(ctx, notify.Filter{UserID: "user-7", Limit: 21}), &notices},
		{"unread", db.notificationsQuery(ctx, notify.Filter{UserID: "user-7", UnreadOnly: true, Limit: 21}), &notices},
		{"next page", db.notificationsQuery(ctx, notify.Filter{UserID: "user-7", BeforeID: rows[3007].ID, Limit: 21}), &notices},
		{"unread next page", db.notificationsQuery(ctx, notify.Filter{UserID: "user-7", UnreadOnly: true, BeforeID: rows[3007].ID,
			Limit: 21}), &notices},
		{"stream poll", db.notificationsQuery(ctx, notify.Filter{UserID: "user-7", Ascending: true, AfterID: rows[5007].ID, Limit: 100}), &notices},
		{"due deliveries", db.dueDeliveriesQuery(ctx, base.Add(3000*time.Minute), 4), &due},
	} {
		t.Run(c.name, func(t *testing.T) {
			plan := explainInto(t, db, c.q, c.dst)
			if len(plan) == 0 {
				t.Fatal("no plan")
			}
			for _, row := range plan {
				if row["key"] == "" || row["type"] == "ALL" || strings.Contains(row["Extra"], "filesort") {
					t.Fatalf("not an index read in order: %v", plan)
				}
			}
		})
	}
}

// explainInto runs EXPLAIN on the SELECT that q would run into dst, whose
// type decides the columns.
func explainInto(t *testing.T, db *DB, q *gorm.DB, dst any) []map[string]string {
	t.Helper()
	stmt := q.Session(&gorm.Session{DryRun: true}).Find(dst).Statement
	rows, err := db.sql.Query("EXPLAIN "+stmt.SQL.String(), stmt.Vars...)
	if err != nil {
		t.Fatalf("explain %s: %v", stmt.SQL.String(), err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []map[string]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for i, c := range cols {
			if b, ok := vals[i].([]byte); ok {
				m[c] = string(b)
			} else if vals[i] != nil {
				m[c] = fmt.Sprint(vals[i])
			}
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("explain %s: %v", stmt.SQL.String(), err)
	}
	t.Logf("%s: %v", stmt.SQL.String(), out)
	return out
}
