package api_test

import (
	"testing"

	"pingan/internal/demo"
)

func codes(t *testing.T, r resp) []string {
	t.Helper()
	var out []string
	for _, it := range r.json(t)["items"].([]any) {
		out = append(out, it.(map[string]any)["code"].(string))
	}
	return out
}

func TestRegionScope(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		sup := e.login(t, "demo-supervisor")
		r := e.do(t, req{method: "GET", path: "/api/v1/regions?level=county", token: sup})
		expect(t, r, 200, "")
		got := codes(t, r)
		want := []string{"370502", "370503", "370505", "370522", "370523"}
		if len(got) != len(want) {
			t.Fatalf("counties = %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("counties = %v, want %v", got, want)
			}
		}
		if r.json(t)["next_cursor"] != nil {
			t.Fatal("next_cursor should be null on the last page")
		}

		county := e.login(t, "demo-county-supervisor")
		// Listing regions of 广饶县 from 东营区: 403; reading it: 404.
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/regions?parent=" + demo.GuangraoCounty, token: county}), 403, "permission_denied")
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/regions/" + demo.GuangraoCounty, token: county}), 404, "not_found")
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/regions/" + demo.GuangraoGrid1, token: county}), 404, "not_found")
		// A code that does not exist looks the same as one out of scope.
		missing := e.do(t, req{method: "GET", path: "/api/v1/regions/370599", token: county})
		outside := e.do(t, req{method: "GET", path: "/api/v1/regions/" + demo.GuangraoCounty, token: county})
		if string(missing.Body) != string(outside.Body) {
			t.Fatalf("missing and out-of-scope differ: %s vs %s", missing.Body, outside.Body)
		}
		// Its own subtree is visible, and only that.
		r = e.do(t, req{method: "GET", path: "/api/v1/regions?level=county", token: county})
		expect(t, r, 200, "")
		if got := codes(t, r); len(got) != 1 || got[0] != demo.DongyingDistrict {
			t.Fatalf("county supervisor sees counties %v", got)
		}
		one := e.do(t, req{method: "GET", path: "/api/v1/regions/" + demo.FuqianCommunity, token: county})
		expect(t, one, 200, "")
		body := one.json(t)
		if body["name"] != "府前社区" || body["parent_code"] != demo.DongchengStreet || body["level"] != "community" {
			t.Fatalf("region body: %s", one.Body)
		}

		// A grid worker sees their grid only.
		gw := e.login(t, "demo-gridworker-2")
		r = e.do(t, req{method: "GET", path: "/api/v1/regions", token: gw})
		if got := codes(t, r); len(got) != 1 || got[0] != demo.GuangraoGrid1 {
			t.Fatalf("grid worker sees %v", got)
		}
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/regions/" + demo.FuqianGrid1, token: gw}), 404, "not_found")
	})
}

func TestRegionPaging(t *testing.T) {
	e := newEnv(t, "sqlite")
	sup := e.login(t, "demo-supervisor")
	seen := map[string]bool{}
	path := "/api/v1/regions?level=township&limit=7"
	pages := 0
	for {
		r := e.do(t, req{method: "GET", path: path, token: sup})
		expect(t, r, 200, "")
		page := codes(t, r)
		for _, c := range page {
			if seen[c] {
				t.Fatalf("code %s on two pages", c)
			}
			seen[c] = true
		}
		pages++
		next, _ := r.json(t)["next_cursor"].(string)
		if next == "" {
			break
		}
		if len(page) != 7 {
			t.Fatalf("a full page before the last has %d items", len(page))
		}
		path = "/api/v1/regions?level=township&limit=7&cursor=" + next
	}
	if len(seen) != 30 || pages != 5 {
		t.Fatalf("paged %d townships in %d pages, want 30 in 5", len(seen), pages)
	}
}

func TestListParameters(t *testing.T) {
	e := newEnv(t, "sqlite")
	sup := e.login(t, "demo-supervisor")
	admin := e.login(t, "demo-admin")
	for _, path := range []string{
		"/api/v1/regions?limit=0",
		"/api/v1/regions?limit=101",
		"/api/v1/regions?limit=-1",
		"/api/v1/regions?limit=abc",
		"/api/v1/regions?cursor=forged",
		"/api/v1/regions?cursor=eyJjb2RlIjoiMzcwNTAyIn0",
		"/api/v1/regions?bogus=1",
		"/api/v1/regions?level=planet",
		"/api/v1/regions?level=county&level=city",
		"/api/v1/regions?parent=%27%20OR%201%3D1",
		"/api/v1/categories?kind=other",
	} {
		expect(t, e.do(t, req{method: "GET", path: path, token: sup}), 400, "invalid_argument")
	}
	r := e.do(t, req{method: "GET", path: "/api/v1/regions?limit=2&bogus=1&other=2", token: sup})
	expect(t, r, 400, "invalid_argument")
	fields := r.json(t)["error"].(map[string]any)["details"].(map[string]any)["fields"].(map[string]any)
	if fields["bogus"] == nil || fields["other"] == nil {
		t.Fatalf("error should name every unknown parameter: %s", r.Body)
	}
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/users?limit=1000", token: admin}), 400, "invalid_argument")
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/users?role=king", token: admin}), 400, "invalid_argument")
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/nowhere", token: admin}), 404, "not_found")
	expect(t, e.do(t, req{method: "DELETE", path: "/api/v1/regions", token: admin}), 405, "method_not_allowed")
}

func TestQueryOnNonListRoutes(t *testing.T) {
	e := newEnv(t, "sqlite")
	admin := e.login(t, "demo-admin")
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/me?x=1", token: admin}), 400, "invalid_argument")
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/regions/" + demo.CityCode + "?boundary=0", token: admin}), 400, "invalid_argument")
	expect(t, e.do(t, req{method: "POST", path: "/api/v1/categories?kind=incident", token: admin, body: map[string]any{}}), 400, "invalid_argument")
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/regions/", token: admin}), 404, "not_found")
	// A supervisor reads accounts in scope, but cannot change them.
	sup := e.login(t, "demo-county-supervisor")
	r := e.do(t, req{method: "GET", path: "/api/v1/users?limit=100", token: sup})
	expect(t, r, 200, "")
	for _, it := range r.json(t)["items"].([]any) {
		if u := it.(map[string]any); u["region_code"].(string)[:6] != demo.DongyingDistrict {
			t.Fatalf("county supervisor reads %v", u)
		}
	}
}
