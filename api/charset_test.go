package api_test

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"pingan/internal/app"
	"pingan/internal/testenv"
)

// TestFourByteTextOnAUTF8Database (MariaDB): issue #12's database created
// with the 3-byte utf8 character set, where a description with 😡 or a
// party named 𠮷田 was a 500 (error 1366). After migration both are stored
// and read back; a table converted back to utf8 stops start-up with one
// line.
func TestFourByteTextOnAUTF8Database(t *testing.T) {
	dsn := testenv.MySQLDSNCharset(t, "utf8", "utf8_general_ci")
	e := newEnvWith(t, "sqlite", map[string]string{"PINGAN_DB": dsn}) // the file store: only the database matters here
	gw := e.login(t, "demo-gridworker")

	r := e.do(t, req{method: "POST", path: "/api/v1/incidents", token: gw,
		body: incidentBody(func(m map[string]any) { m["description"] = "楼上噪音扰民😡, 多次沟通无果" })})
	expect(t, r, 201, "")
	got := e.do(t, req{method: "GET", path: "/api/v1/incidents/" + r.json(t)["id"].(string), token: gw})
	expect(t, got, 200, "")
	if got.json(t)["description"] != "楼上噪音扰民😡, 多次沟通无果" {
		t.Fatalf("description read back: %s", got.Body)
	}

	r = e.do(t, req{method: "POST", path: "/api/v1/disputes", token: gw, body: disputeBody(func(m map[string]any) {
		m["description"] = "邻里纠纷😡"
		m["parties"] = []map[string]any{{"role": "applicant", "name": "𠮷田", "phone": dpPhone}}
	})})
	expect(t, r, 201, "")
	got = e.do(t, req{method: "GET", path: "/api/v1/disputes/" + r.json(t)["id"].(string), token: gw})
	expect(t, got, 200, "")
	d := got.json(t)
	if d["description"] != "邻里纠纷😡" || d["parties"].([]any)[0].(map[string]any)["name"] != "𠮷田" {
		t.Fatalf("dispute read back: %s", got.Body)
	}

	// A table left in (or put back into) utf8 stops start-up, in one line.
	if _, err := e.app.DB.SQL().Exec("ALTER TABLE case_counters CONVERT TO CHARACTER SET utf8 COLLATE utf8_general_ci"); err != nil {
		t.Fatal(err)
	}
	_, err := app.Open(context.Background(), e.app.Config, slog.New(slog.DiscardHandler), e.clock.now)
	want := regexp.MustCompile(`^PINGAN_DB: the schema is not utf8mb4: table case_counters: column prefix is utf8(mb3)?; ` +
		`convert it with ALTER TABLE case_counters CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci$`)
	if err == nil || !want.MatchString(err.Error()) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("start-up: %v", err)
	}
}
