package api_test

import (
	"strings"
	"testing"

	"pingan/internal/demo"
)

func TestUsersAdmin(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.login(t, "demo-admin")
		r := e.do(t, req{method: "POST", path: "/api/v1/users", token: admin, body: map[string]any{
			"username": "zhang.san", "password": "correct-horse", "name": "张三", "phone": "13912345678",
			"role": "grid_worker", "region_code": demo.FuqianGrid1,
		}})
		expect(t, r, 201, "")
		created := r.json(t)
		id := created["id"].(string)
		if created["phone"] != "139****5678" || created["active"] != true || created["role"] != "grid_worker" {
			t.Fatalf("created: %s", r.Body)
		}
		// The phone is encrypted at rest: the row holds no plain digits.
		var enc string
		if err := e.app.DB.SQL().QueryRow("SELECT phone_enc FROM users WHERE id = ?", id).Scan(&enc); err != nil {
			t.Fatal(err)
		}
		if enc == "" || strings.Contains(enc, "13912345678") || strings.Contains(enc, "5678") {
			t.Fatalf("phone stored as %q", enc)
		}
		// A grid worker's scope must be a grid.
		r = e.do(t, req{method: "POST", path: "/api/v1/users", token: admin, body: map[string]any{
			"username": "li.si", "password": "correct-horse", "name": "李四", "role": "grid_worker", "region_code": demo.FuqianCommunity,
		}})
		expect(t, r, 400, "invalid_argument")

		// The new account can log in and see its grid.
		login := e.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "zhang.san", "password": "correct-horse"}})
		expect(t, login, 200, "")

		// List and filter.
		r = e.do(t, req{method: "GET", path: "/api/v1/users?role=grid_worker&limit=100", token: admin})
		expect(t, r, 200, "")
		var names []string
		for _, it := range r.json(t)["items"].([]any) {
			names = append(names, it.(map[string]any)["username"].(string))
		}
		if strings.Join(names, ",") != "demo-gridworker,demo-gridworker-2,zhang.san" {
			t.Fatalf("grid workers: %v", names)
		}
		r = e.do(t, req{method: "GET", path: "/api/v1/users?limit=2", token: admin})
		next, _ := r.json(t)["next_cursor"].(string)
		if len(r.json(t)["items"].([]any)) != 2 || next == "" {
			t.Fatalf("first page: %s", r.Body)
		}
		r = e.do(t, req{method: "GET", path: "/api/v1/users?limit=2&cursor=" + next, token: admin})
		first := r.json(t)["items"].([]any)[0].(map[string]any)["username"]
		// Usernames in order: demo-admin, demo-city-mediator | demo-county-mediator, …
		if first != "demo-county-mediator" {
			t.Fatalf("second page starts with %v", first)
		}

		// Patch: rename and move to another grid.
		r = e.do(t, req{method: "PATCH", path: "/api/v1/users/" + id, token: admin, body: map[string]any{"name": "张三丰", "region_code": demo.GuangraoGrid1}})
		expect(t, r, 200, "")
		if got := r.json(t); got["name"] != "张三丰" || got["region_code"] != demo.GuangraoGrid1 {
			t.Fatalf("patched: %s", r.Body)
		}
		expect(t, e.do(t, req{method: "PATCH", path: "/api/v1/users/" + id, token: admin, body: map[string]any{"role": "overlord"}}), 400, "invalid_argument")
		expect(t, e.do(t, req{method: "PATCH", path: "/api/v1/users/" + id, token: admin, body: map[string]any{"username": "renamed"}}), 400, "invalid_argument")
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/users/not-a-uuid", token: admin}), 404, "not_found")
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/users/0193f1b2-0000-7000-8000-000000000001", token: admin}), 404, "not_found")

		// An admin cannot disable themselves.
		me := e.do(t, req{method: "GET", path: "/api/v1/me", token: admin}).json(t)
		expect(t, e.do(t, req{method: "PATCH", path: "/api/v1/users/" + me["id"].(string), token: admin, body: map[string]any{"active": false}}), 400, "invalid_argument")
	})
}

func TestUsersCountyAdminScope(t *testing.T) {
	e := newEnv(t, "sqlite")
	admin := e.login(t, "demo-admin")
	r := e.do(t, req{method: "POST", path: "/api/v1/users", token: admin, body: map[string]any{
		"username": "dy-admin", "password": "correct-horse", "name": "东营区管理员", "role": "admin", "region_code": demo.DongyingDistrict,
	}})
	expect(t, r, 201, "")
	login := e.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "dy-admin", "password": "correct-horse"}})
	tok := login.json(t)["access_token"].(string)
	gw2, _ := e.app.DB.FindUserByUsername(t.Context(), "demo-gridworker-2")
	// Users of 广饶县 are invisible to 东营区's admin; asking to list them is refused.
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/users/" + gw2.ID, token: tok}), 404, "not_found")
	expect(t, e.do(t, req{method: "PATCH", path: "/api/v1/users/" + gw2.ID, token: tok, body: map[string]any{"active": false}}), 404, "not_found")
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/users?region=" + demo.GuangraoCounty, token: tok}), 403, "permission_denied")
	r = e.do(t, req{method: "GET", path: "/api/v1/users?limit=100", token: tok})
	for _, it := range r.json(t)["items"].([]any) {
		if u := it.(map[string]any); !strings.HasPrefix(u["region_code"].(string), "370502") {
			t.Fatalf("county admin sees %v", u)
		}
	}
	// Nor can it create accounts outside its subtree.
	expect(t, e.do(t, req{method: "POST", path: "/api/v1/users", token: tok, body: map[string]any{
		"username": "gr-worker", "password": "correct-horse", "name": "x", "role": "grid_worker", "region_code": demo.GuangraoGrid1,
	}}), 400, "invalid_argument")
}

func TestCategoriesAPI(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		gw := e.login(t, "demo-gridworker")
		admin := e.login(t, "demo-admin")
		r := e.do(t, req{method: "GET", path: "/api/v1/categories?kind=incident", token: gw})
		expect(t, r, 200, "")
		items := r.json(t)["items"].([]any)
		if len(items) != 8 {
			t.Fatalf("incident categories: %d", len(items))
		}
		r = e.do(t, req{method: "POST", path: "/api/v1/categories", token: admin, body: map[string]any{
			"code": "drowning_risk", "kind": "incident", "name_zh": "溺水隐患", "name_en": "Drowning risk"}})
		expect(t, r, 201, "")
		if r.json(t)["active"] != true {
			t.Fatalf("new category inactive: %s", r.Body)
		}
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/categories", token: admin, body: map[string]any{
			"code": "drowning_risk", "kind": "incident", "name_zh": "溺水隐患", "name_en": "Drowning risk"}}), 409, "conflict")
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/categories", token: admin, body: map[string]any{
			"code": "Bad Code", "kind": "weather", "name_zh": "", "name_en": "x"}}), 400, "invalid_argument")
		r = e.do(t, req{method: "PATCH", path: "/api/v1/categories/incident/drowning_risk", token: admin, body: map[string]any{"active": false}})
		expect(t, r, 200, "")
		if r.json(t)["active"] != false {
			t.Fatalf("patch: %s", r.Body)
		}
		expect(t, e.do(t, req{method: "PATCH", path: "/api/v1/categories/incident/nope", token: admin, body: map[string]any{"active": false}}), 404, "not_found")
		expect(t, e.do(t, req{method: "PATCH", path: "/api/v1/categories/incident/fire", token: admin, body: map[string]any{"name_zh": " "}}), 400, "invalid_argument")
	})
}

func TestCategoriesCityWideOnly(t *testing.T) {
	e := newEnv(t, "sqlite")
	admin := e.login(t, "demo-admin")
	expect(t, e.do(t, req{method: "POST", path: "/api/v1/users", token: admin, body: map[string]any{
		"username": "dy-admin", "password": "correct-horse", "name": "东营区管理员", "role": "admin", "region_code": demo.DongyingDistrict,
	}}), 201, "")
	tok := e.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "dy-admin", "password": "correct-horse"}}).json(t)["access_token"].(string)
	expect(t, e.do(t, req{method: "PATCH", path: "/api/v1/categories/incident/fire", token: tok, body: map[string]any{"active": false}}), 403, "permission_denied")
	expect(t, e.do(t, req{method: "POST", path: "/api/v1/categories", token: tok, body: map[string]any{
		"code": "county_only", "kind": "incident", "name_zh": "区县", "name_en": "County"}}), 403, "permission_denied")
	c, err := e.app.DB.FindCategory(t.Context(), "incident", "fire")
	if err != nil || !c.Active {
		t.Fatalf("a county admin changed a city-wide category: %+v %v", c, err)
	}
}
