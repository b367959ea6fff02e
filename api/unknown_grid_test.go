package api_test

import (
	"testing"
	"time"
)

// TestReportInUnknownGrid: a report naming a grid that does not exist is
// 400 "unknown region" on region_code (not 403 "outside your scope", which
// stays for an existing grid elsewhere), for incidents and disputes alike,
// and writes nothing (SPEC §6: the error says what is wrong).
func TestReportInUnknownGrid(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		tok := e.login(t, "demo-mediator")
		for path, body := range map[string]map[string]any{
			"/api/v1/incidents": incidentBody(func(m map[string]any) { m["region_code"] = "370502003001099" }),
			"/api/v1/disputes": disputeBody(func(m map[string]any) {
				m["region_code"] = "370502003001099"
				m["occurred_at"] = time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
			}),
		} {
			expectFields(t, e.do(t, req{method: "POST", path: path, token: tok, body: body}),
				map[string]string{"region_code": "unknown region"})
		}
		var n int
		if err := e.app.DB.SQL().QueryRow("SELECT (SELECT COUNT(*) FROM incidents) + (SELECT COUNT(*) FROM disputes)").Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d cases written (%v)", n, err)
		}
	})
}
