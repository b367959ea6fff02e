package api_test

import (
	"fmt"
	"strings"
	"testing"

	"pingan/internal/demo"
)

func feature(code, name, level, parent string, pop any, geometry string) string {
	if geometry == "" {
		geometry = "null"
	}
	return fmt.Sprintf(`{"type":"Feature","properties":{"code":%q,"name":%q,"level":%q,"parent_code":%q,"population":%v},"geometry":%s}`,
		code, name, level, parent, pop, geometry)
}

func collection(features ...string) string {
	return `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
}

const square = `{"type":"Polygon","coordinates":[[[118.50,37.40],[118.52,37.40],[118.52,37.42],[118.50,37.42],[118.50,37.40]]]}`

func TestRegionImport(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.login(t, "demo-admin")
		comm := demo.DongchengStreet + "901"
		body := collection(
			// The child comes first: the import orders parents before children.
			feature(comm+"001", "新区第1网格", "grid", comm, 800, ""),
			feature(comm, "新区社区", "community", demo.DongchengStreet, 4200, square),
		)
		r := e.do(t, req{method: "POST", path: "/api/v1/regions/import", token: admin, body: body})
		expect(t, r, 200, "")
		if r.json(t)["imported"] != float64(2) {
			t.Fatalf("import: %s", r.Body)
		}
		one := e.do(t, req{method: "GET", path: "/api/v1/regions/" + comm, token: admin})
		expect(t, one, 200, "")
		got := one.json(t)
		c := got["centroid"].(map[string]any)
		if got["population"] != float64(4200) || c["lat"].(float64) < 37.409 || c["lat"].(float64) > 37.411 ||
			got["boundary"].(map[string]any)["type"] != "Polygon" {
			t.Fatalf("imported region: %s", one.Body)
		}
		grid, _ := e.app.DB.FindRegionByCode(t.Context(), comm+"001")
		if grid.Path != "/370500/370502/"+demo.DongchengStreet+"/"+comm+"/"+comm+"001/" {
			t.Fatalf("grid path %s", grid.Path)
		}

		// Bad imports name every bad feature and write nothing.
		bad := collection(
			feature(comm+"002", "好网格", "grid", comm, 100, ""),
			feature("x1", "坏编码", "grid", comm, 100, ""),
			feature(comm+"003", "无上级", "grid", "370502999999", 100, ""),
			feature(comm+"004", "层级错", "township", comm, 100, ""),
			feature(comm+"005", "负人口", "grid", comm, -5, ""),
			feature(comm+"006", "点几何", "grid", comm, 10, `{"type":"Point","coordinates":[118.5,37.4]}`),
			feature(comm+"007", "越界", "grid", comm, 10, `{"type":"Polygon","coordinates":[[[500,37],[501,37],[501,38],[500,37]]]}`),
		)
		r = e.do(t, req{method: "POST", path: "/api/v1/regions/import", token: admin, body: bad})
		expect(t, r, 400, "invalid_argument")
		fields := r.json(t)["error"].(map[string]any)["details"].(map[string]any)["fields"].(map[string]any)
		for i := 1; i <= 6; i++ {
			if fields[fmt.Sprintf("features[%d]", i)] == nil {
				t.Errorf("features[%d] not named: %s", i, r.Body)
			}
		}
		if fields["features[0]"] != nil {
			t.Errorf("the good feature was blamed: %s", r.Body)
		}
		if _, err := e.app.DB.FindRegionByCode(t.Context(), comm+"002"); err == nil {
			t.Fatal("a failed import wrote a region")
		}
		for _, raw := range []string{`{"type":"Point"}`, `not json`, `{"type":"FeatureCollection","features":[]}`} {
			expect(t, e.do(t, req{method: "POST", path: "/api/v1/regions/import", token: admin, body: raw}), 400, "invalid_argument")
		}
		// A city cannot be created over the API.
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/regions/import", token: admin,
			body: collection(feature("370600", "烟台市", "city", "", 100, ""))}), 400, "invalid_argument")
	})
}

func TestRegionImportScope(t *testing.T) {
	e := newEnv(t, "sqlite")
	admin := e.login(t, "demo-admin")
	expect(t, e.do(t, req{method: "POST", path: "/api/v1/users", token: admin, body: map[string]any{
		"username": "dy-admin", "password": "correct-horse", "name": "东营区管理员", "role": "admin", "region_code": demo.DongyingDistrict,
	}}), 201, "")
	tok := e.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "dy-admin", "password": "correct-horse"}}).json(t)["access_token"].(string)
	r := e.do(t, req{method: "POST", path: "/api/v1/regions/import", token: tok,
		body: collection(feature(demo.ZihedianCommunity+"901", "外区网格", "grid", demo.ZihedianCommunity, 10, ""))})
	expect(t, r, 400, "invalid_argument")
	if !strings.Contains(string(r.Body), "outside your scope") {
		t.Fatalf("scope error: %s", r.Body)
	}
}
