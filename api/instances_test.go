package api_test

import (
	"sync"
	"testing"
)

// TestIdempotencyAcrossInstances: two API instances on one MariaDB share
// idempotency records (SPEC §13.4): the same key sent to both at once
// writes one incident, and each instance replays the other's answer.
func TestIdempotencyAcrossInstances(t *testing.T) {
	a := newEnv(t, "mysql")
	b := reopen(t, a, a.app.Config.JWTKeys)
	token := a.login(t, "demo-gridworker")
	before := countRows(t, a, "incidents")
	body := incidentBody(nil)
	var wg sync.WaitGroup
	results := make([]resp, 10)
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			e := a
			if i%2 == 1 {
				e = b
			}
			results[i] = e.do(t, req{method: "POST", path: "/api/v1/incidents", token: token, body: body,
				header: map[string]string{"Idempotency-Key": "two-instances"}})
		}(i)
	}
	wg.Wait()
	var created string
	for _, r := range results {
		switch r.Code {
		case 201:
			if created != "" && string(r.Body) != created {
				t.Fatalf("different answers for one key:\n%s\n%s", created, r.Body)
			}
			created = string(r.Body)
		case 409:
		default:
			t.Fatalf("answered %d %s", r.Code, r.Body)
		}
	}
	for _, e := range []*env{a, b} {
		r := e.do(t, req{method: "POST", path: "/api/v1/incidents", token: token, body: body, header: map[string]string{"Idempotency-Key": "two-instances"}})
		if r.Code != 201 || string(r.Body) != created {
			t.Fatalf("replay: %d %s", r.Code, r.Body)
		}
	}
	if n := countRows(t, a, "incidents"); n != before+1 {
		t.Fatalf("%d rows written for one key", n-before)
	}
}
