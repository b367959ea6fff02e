package api_test

import (
	"strings"
	"testing"

	"pingan/internal/demo"
)

// TestBadBodies: every kind of malformed input is a clear 4xx that names
// the problem and writes nothing (SPEC §13.2).
func TestBadBodies(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.login(t, "demo-admin")
		countUsers := func() int64 {
			n, err := e.app.DB.CountUsers(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := countUsers()
		valid := `{"username":"new-user","password":"long-enough-1","name":"新用户","role":"mediator","region_code":"` + demo.FuqianCommunity + `"}`
		cases := []struct {
			name, body, field string
			status            int
		}{
			{"malformed", `{"username":`, "body", 400},
			{"not an object", `[1,2,3]`, "body", 400},
			{"two objects", valid + valid, "body", 400},
			{"trailing garbage", valid + "xyz", "body", 400},
			{"empty", ``, "body", 400},
			{"wrong type", strings.Replace(valid, `"name":"新用户"`, `"name":42`, 1), "name", 400},
			{"unknown field", strings.Replace(valid, `{`, `{"is_root":true,`, 1), "is_root", 400},
			{"server-owned id", strings.Replace(valid, `{`, `{"id":"0193f1b2-0000-7000-8000-000000000001",`, 1), "id", 400},
			{"server-owned created_at", strings.Replace(valid, `{`, `{"created_at":"2020-01-01T00:00:00Z",`, 1), "created_at", 400},
			{"invalid UTF-8", strings.Replace(valid, "新用户", "\xff\xfe", 1), "body", 400},
			{"missing fields", `{"username":"x"}`, "password", 400},
			{"bad role", strings.Replace(valid, "mediator", "emperor", 1), "role", 400},
			{"region out of scope", strings.Replace(valid, demo.FuqianCommunity, "999999", 1), "region_code", 400},
			{"short password", strings.Replace(valid, "long-enough-1", "short", 1), "password", 400},
			{"bad username", strings.Replace(valid, "new-user", "New User!", 1), "username", 400},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := e.do(t, req{method: "POST", path: "/api/v1/users", token: admin, body: c.body})
				expect(t, r, c.status, "invalid_argument")
				fields, _ := r.json(t)["error"].(map[string]any)["details"].(map[string]any)["fields"].(map[string]any)
				if _, ok := fields[c.field]; !ok {
					t.Fatalf("error does not name %q: %s", c.field, r.Body)
				}
			})
		}
		huge := `{"username":"` + strings.Repeat("a", 2<<20) + `"}`
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/users", token: admin, body: huge}), 413, "too_large")
		if after := countUsers(); after != before {
			t.Fatalf("bad requests wrote users: %d → %d", before, after)
		}
		// Every bad field is named at once.
		r := e.do(t, req{method: "POST", path: "/api/v1/users", token: admin, body: `{"username":"Bad Name","password":"x","name":"","role":"king","region_code":"1"}`})
		expect(t, r, 400, "invalid_argument")
		fields := r.json(t)["error"].(map[string]any)["details"].(map[string]any)["fields"].(map[string]any)
		for _, f := range []string{"username", "password", "name", "role", "region_code"} {
			if fields[f] == nil {
				t.Errorf("field %s not named: %s", f, r.Body)
			}
		}
		// The valid body works, once.
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/users", token: admin, body: valid}), 201, "")
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/users", token: admin, body: valid}), 409, "conflict")
		if after := countUsers(); after != before+1 {
			t.Fatalf("users %d → %d, want one more", before, after)
		}
	})
}
