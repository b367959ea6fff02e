package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/store"
)

// TestRecentActions: the times of one actor's entries of one action since
// a time, newest first, at most the limit — what the phone search's limit
// counts (SPEC §8.5).
func TestRecentActions(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		base := time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
		add := func(actor, action string, at time.Time) {
			t.Helper()
			e := audit.New(ctx, access.Principal{UserID: actor, Role: access.Mediator}, at, action, "dispute", "", "")
			if err := db.AppendAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < 5; i++ {
			add("u1", "dispute.phone_search", base.Add(time.Duration(i)*time.Minute))
		}
		add("u1", "dispute.reveal", base.Add(10*time.Minute))
		add("u2", "dispute.phone_search", base.Add(10*time.Minute))
		for _, c := range []struct {
			since time.Time
			limit int
			want  []int // minutes after base
		}{
			{base, 30, []int{4, 3, 2, 1, 0}},
			{base, 3, []int{4, 3, 2}},
			{base.Add(2 * time.Minute), 30, []int{4, 3, 2}},
			{base.Add(5 * time.Minute), 30, nil},
		} {
			got, err := db.RecentActions(ctx, "u1", "dispute.phone_search", c.since, c.limit)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(len(got)) != fmt.Sprint(len(c.want)) {
				t.Fatalf("since %s limit %d: %v", c.since, c.limit, got)
			}
			for i, m := range c.want {
				if !got[i].Equal(base.Add(time.Duration(m) * time.Minute)) {
					t.Fatalf("since %s limit %d: %v, want minutes %v", c.since, c.limit, got, c.want)
				}
			}
		}
	})
}
