package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"pingan/internal/notify"
)

// TestNotificationQueriesUseIndexes checks on MariaDB, with EXPLAIN, that
// the inbox, its unread filter, its next page, a stream's poll and the
// webhook worker's claim read through an index in index order.
func TestNotificationQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	db := migratedMySQL(t)
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
	// The check can fail: a query on an unindexed column scans the table.
	if plan := explain(t, db, db.gorm.Model(&notificationRow{}).Where("title = ?", "x")); len(plan) == 0 || plan[0]["type"] != "ALL" {
		t.Fatalf("control query should scan: %v", plan)
	}
	for _, c := range []struct {
		name string
		q    *gorm.DB
	}{
		{"inbox", db.notificationsQuery(ctx, notify.Filter{UserID: "user-7", Limit: 21})},
		{"unread", db.notificationsQuery(ctx, notify.Filter{UserID: "user-7", UnreadOnly: true, Limit: 21})},
		{"next page", db.notificationsQuery(ctx, notify.Filter{UserID: "user-7", BeforeID: rows[3007].ID, Limit: 21})},
		{"unread next page", db.notificationsQuery(ctx, notify.Filter{UserID: "user-7", UnreadOnly: true, BeforeID: rows[3007].ID,
			Limit: 21})},
		{"stream poll", db.notificationsQuery(ctx, notify.Filter{UserID: "user-7", Ascending: true, AfterID: rows[5007].ID, Limit: 100})},
		{"due deliveries", db.dueDeliveriesQuery(ctx, base.Add(3000*time.Minute), 4)},
	} {
		t.Run(c.name, func(t *testing.T) {
			plan := explain(t, db, c.q)
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
