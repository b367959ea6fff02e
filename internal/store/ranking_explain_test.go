package store

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"pingan/internal/pii"
	"pingan/internal/ranking"
	"pingan/internal/testenv"
)

// TestJobPollUsesIndex: the query every instance runs every second for
// queued index jobs (SPEC §9.6) reads the few pending and running jobs
// through the (status, created_at) index, never the done ones, on MariaDB
// and on SQLite.
func TestJobPollUsesIndex(t *testing.T) {
	for _, backend := range []string{"sqlite", "mysql"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			url := "sqlite://" + t.TempDir() + "/t.db"
			if backend == "mysql" {
				url = testenv.MySQLDSN(t)
			}
			sealer, _ := pii.NewSealer(bytes.Repeat([]byte{1}, 32))
			db, err := Open(ctx, url, sealer)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			// Years of finished jobs, and a few waiting.
			base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
			rows := make([]jobRow, 0, 5000)
			for i := range 5000 {
				at := base.Add(time.Duration(i) * 5 * time.Hour)
				status, reason := ranking.Done, "schedule"
				if i%1000 == 999 {
					status, reason = ranking.Pending, ranking.Backfill
				}
				rows = append(rows, jobRow{ID: fmt.Sprintf("0193f1b2-0000-7000-8000-%012d", i), PeriodKind: "day",
					Period: at.Format("2006-01-02"), Status: status, Reason: reason, CreatedAt: at, FinishedAt: &at})
			}
			if err := db.gorm.CreateInBatches(rows, 50).Error; err != nil {
				t.Fatal(err)
			}
			analyse := "ANALYZE TABLE index_jobs"
			if backend == "sqlite" {
				analyse = "ANALYZE"
			}
			if err := db.gorm.Exec(analyse).Error; err != nil {
				t.Fatal(err)
			}
			poll := db.claimable(ctx, time.Now())
			if backend == "mysql" {
				plan := explain(t, db, poll)
				if len(plan) != 1 || plan[0]["key"] != "index_jobs_status" || plan[0]["type"] != "range" {
					t.Fatalf("the poll does not read a range of index_jobs_status: %v", plan)
				}
			} else if plan := explainSQLite(t, db, poll); !strings.Contains(plan, "USING INDEX index_jobs_status") || strings.Contains(plan, "SCAN index_jobs") {
				t.Fatalf("the poll does not search index_jobs_status: %s", plan)
			}
			// And it finds the waiting jobs, oldest period first.
			var got []jobRow
			if err := poll.Find(&got).Error; err != nil || len(got) != 5 || got[0].ID != rows[999].ID || got[4].ID != rows[4999].ID {
				t.Fatalf("claimable: %d jobs, %v", len(got), err)
			}
		})
	}
}

// explainSQLite is SQLite's query plan of the SELECT q would run, one line
// per step.
func explainSQLite(t *testing.T, db *DB, q *gorm.DB) string {
	t.Helper()
	var dst []map[string]any
	stmt := q.Session(&gorm.Session{DryRun: true}).Find(&dst).Statement
	rows, err := db.sql.Query("EXPLAIN QUERY PLAN "+stmt.SQL.String(), stmt.Vars...)
	if err != nil {
		t.Fatalf("explain %s: %v", stmt.SQL.String(), err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	return strings.Join(plan, "\n")
}
