package api_test

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
)

// Reports are group-committed (internal/store/group.go): the writes of
// concurrent reports share one transaction. These tests send many at once
// so that groups really form, and check that each report still stands
// alone in what it gets and what it writes.

func TestGroupCommitConcurrentReports(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		names := []string{"demo-gridworker", "demo-gridworker-2"}
		workers := []string{e.login(t, names[0]), e.login(t, names[1])}
		incidents, events, audits, keys := countRows(t, e, "incidents"), countRows(t, e, "case_events"),
			countRows(t, e, "audit_log"), countRows(t, e, "idempotency_keys")

		// 60 reports on 30 keys: each key is sent twice at the same time,
		// half of them by each worker, so some groups hold a repeated key.
		const n = 60
		bodies := make([][]byte, n)
		codes := make([]int, n)
		// One body per key, made before the requests: both sends of a key must
		// be the same request (occurred_at is taken from the clock).
		sent := make([]map[string]any, n/2)
		for k := range sent {
			sent[k] = incidentBody(func(m map[string]any) {
				m["description"] = fmt.Sprintf("report %d", k)
				inGridOf(t, names[k%2])(m) // the worker who sends key k
			})
		}
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				k := i / 2
				r := e.do(t, req{method: "POST", path: "/api/v1/incidents", token: workers[k%2], body: sent[k],
					header: map[string]string{"Idempotency-Key": fmt.Sprintf("group-%d", k)}})
				bodies[i], codes[i] = r.Body, r.Code
			})
		}
		wg.Wait()
		for k := range n / 2 {
			a, b := 2*k, 2*k+1
			// Both 201 with the same bytes, or one of them 409 (still in flight).
			switch {
			case codes[a] == 201 && codes[b] == 201:
				if !bytes.Equal(bodies[a], bodies[b]) {
					t.Errorf("key %d: two different answers:\n%s\n%s", k, bodies[a], bodies[b])
				}
			case codes[a] == 201 && codes[b] == 409, codes[a] == 409 && codes[b] == 201:
			default:
				t.Errorf("key %d: %d %s / %d %s", k, codes[a], bodies[a], codes[b], bodies[b])
			}
		}
		// One report per key, each with its event, audit entry and record.
		for table, before := range map[string]int{"incidents": incidents, "case_events": events, "audit_log": audits, "idempotency_keys": keys} {
			if got := countRows(t, e, table) - before; got != n/2 {
				t.Errorf("%s: %d new rows, want %d", table, got, n/2)
			}
		}
		var orphans int
		if err := e.app.DB.SQL().QueryRow(`SELECT COUNT(*) FROM incidents i WHERE NOT EXISTS
			(SELECT 1 FROM case_events v WHERE v.case_id = i.id AND v.action = 'create')`).Scan(&orphans); err != nil || orphans != 0 {
			t.Errorf("incidents without their create event: %d %v", orphans, err)
		}
	})
}

func TestGroupCommitPhotoRace(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		worker := e.login(t, "demo-gridworker")
		photo := phNewPhoto(t, e, worker)
		// Eight reports claim the same photo at once, each with its own key:
		// one gets it, the others are told why and write nothing.
		before := countRows(t, e, "incidents")
		codes := make([]int, 8)
		var wg sync.WaitGroup
		for i := range codes {
			wg.Go(func() {
				r := e.do(t, req{method: "POST", path: "/api/v1/incidents", token: worker,
					body:   incidentBody(func(m map[string]any) { m["photo_ids"] = []string{photo} }),
					header: map[string]string{"Idempotency-Key": fmt.Sprintf("photo-race-%d", i)}})
				codes[i] = r.Code
				if r.Code != 201 {
					expect(t, r, 400, "invalid_argument")
				}
			})
		}
		wg.Wait()
		won := 0
		for _, c := range codes {
			if c == 201 {
				won++
			}
		}
		if won != 1 || countRows(t, e, "incidents") != before+1 {
			t.Fatalf("codes %v, %d new incidents; want one 201 and one incident", codes, countRows(t, e, "incidents")-before)
		}
		var caseID string
		if err := e.app.DB.SQL().QueryRow("SELECT case_id FROM photos WHERE id = ?", photo).Scan(&caseID); err != nil {
			t.Fatal(err)
		}
		var holds int
		if err := e.app.DB.SQL().QueryRow("SELECT COUNT(*) FROM incidents WHERE id = ? AND photo_ids = ?", caseID, photo).Scan(&holds); err != nil || holds != 1 {
			t.Fatalf("the photo belongs to %q, which does not list it (%d, %v)", caseID, holds, err)
		}
	})
}
