package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestRecentActionsUseIndex checks on MariaDB that the phone search's limit
// reads the (actor_id, at, id) index backwards, not the log.
func TestRecentActionsUseIndex(t *testing.T) {
	ctx := context.Background()
	db := migratedMySQL(t)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := make([]auditRow, 0, 6000)
	for i := 0; i < 6000; i++ {
		rows = append(rows, auditRow{ID: fmt.Sprintf("0193f1b2-0000-7000-a000-%012d", i), At: base.Add(time.Duration(i) * time.Minute),
			ActorID: fmt.Sprintf("user-%d", i%60), ActorRole: "mediator", Action: []string{"dispute.phone_search", "dispute.accept", "incident.create"}[i%3],
			Entity: "dispute", RegionPath: "/370500/"})
	}
	if err := db.gorm.CreateInBatches(rows, 500).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.gorm.Exec("ANALYZE TABLE audit_log").Error; err != nil {
		t.Fatal(err)
	}
	plan := explain(t, db, db.recentActionsQuery(ctx, "user-7", "dispute.phone_search", base.Add(3000*time.Minute), 30))
	for _, row := range plan {
		if row["key"] != "audit_log_actor" || strings.Contains(row["Extra"], "filesort") {
			t.Fatalf("not read through (actor_id, at, id) in order: %v", plan)
		}
	}
}
