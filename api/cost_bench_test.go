package api_test

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"pingan/internal/demo"
)

// BenchmarkRefuse sends the worst bodies of up to 1 MiB we could build
// through the real router, as a grid worker or an admin, and times their
// refusal (SPEC §6: no body of 1 MiB costs more than milliseconds to
// refuse). Each request has a fresh Idempotency-Key, so each is refused in
// full (and its answer stored), never replayed. docs/performance.md has
// the figures:
//
//	go test ./api/ -run '^$' -bench Refuse -benchtime 50x
//
// On SQLite by default; PINGAN_BENCH_BACKEND=mysql runs it on MariaDB
// (with the test services up).
func BenchmarkRefuse(b *testing.B) {
	backend := "sqlite"
	if v := os.Getenv("PINGAN_BENCH_BACKEND"); v != "" {
		backend = v
	}
	e := newEnv(b, backend)
	e.skipSpec = true
	gw, admin, sup := e.login(b, "demo-gridworker"), e.login(b, "demo-admin"), e.login(b, "demo-supervisor")
	occurred := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	const size = 1 << 20
	fill := func(head, unit, tail string) []byte {
		var buf bytes.Buffer
		buf.WriteString(head)
		for buf.Len()+len(unit)+len(tail) < size {
			buf.WriteString(unit)
		}
		out := bytes.TrimSuffix(buf.Bytes(), []byte(","))
		return append(out, tail...)
	}
	dispute := `{"category":"neighbourhood","description":"x","risk_level":"low","occurred_at":"` + occurred + `",`
	incident := `{"category":"public_order","severity":"low","description":"x","occurred_at":"` + occurred + `",`
	// Every value of the monthly petitions the demo's regions can take
	// since 2000, all good, and then one for a grid, which the indicator
	// does not rank: every check runs before the refusal.
	var values bytes.Buffer
	values.WriteString(`{"items":[`)
	for _, region := range []string{demo.DongyingDistrict, demo.GuangraoCounty, demo.DongchengStreet, demo.GuangraoTownship,
		demo.FuqianCommunity, demo.ZihedianCommunity} {
		for m := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC); m.Before(time.Now().AddDate(0, -1, 0)); m = m.AddDate(0, 1, 0) {
			fmt.Fprintf(&values, `{"indicator":"petitions","region_code":"%s","period":"%s","value":1},`, region, m.Format("2006-01"))
		}
	}
	fmt.Fprintf(&values, `{"indicator":"petitions","region_code":"%s","period":"2026-01","value":1}]}`, demo.FuqianGrid1)
	valuesBody := values.Bytes()
	var keys strings.Builder
	keys.WriteString("{")
	for i := 0; keys.Len() < size-32; i++ {
		fmt.Fprintf(&keys, `"k%d":1,`, i)
	}
	keys.WriteString(`"severity":"low"}`)

	cases := []struct {
		name, path, token, ctype string
		body                     []byte
		status                   int
	}{
		// The floor: a tiny bad body, refused after the same steps (token,
		// key claimed, answer stored).
		{"a small bad body (the floor)", "/api/v1/incidents", gw, "application/json", []byte(`{"x":1}`), 400},
		{"parties of empty objects", "/api/v1/disputes", gw, "application/json", fill(dispute+`"parties":[`, `{},`, `]}`), 400},
		{"unknown keys", "/api/v1/incidents", gw, "application/json", []byte(keys.String()), 400},
		{"one key of a megabyte", "/api/v1/incidents", gw, "application/json", []byte(`{"` + strings.Repeat("k", size-16) + `":1}`), 400},
		{"nested arrays in a known field", "/api/v1/incidents", gw, "application/json",
			[]byte(incident + `"photo_ids":[` + strings.Repeat("[", size/2-200) + strings.Repeat("]", size/2-200) + `]}`), 400},
		{"nested arrays in an unknown field", "/api/v1/incidents", gw, "application/json",
			[]byte(incident + `"x":` + strings.Repeat("[", 9000) + strings.Repeat("[1],", (size-20000)/4) + `[1]` + strings.Repeat("]", 9000) + `}`), 400},
		{"a long description", "/api/v1/incidents", gw, "application/json",
			[]byte(`{"category":"public_order","severity":"low","occurred_at":"` + occurred + `","description":"` +
				strings.Repeat("长", (size-300)/3) + `"}`), 400},
		{"many values of the wrong type", "/api/v1/disputes", gw, "application/json",
			fill(dispute+`"photo_ids":[1,1,1,1,1,1,1,1,1],"parties":[`, `{"role":1,"name":1,"phone":1,"id_number":1},`, `]}`), 400},
		{"a filter of 100 000 codes", "/api/v1/indicators", admin, "application/json",
			fill(`{"code":"x_count","name_zh":"x","direction":"negative","weight":0.1,"periods":["month"],"source":"auto","method":"count","filter":{"case":"incident","categories":[`,
				`"no_such_code",`, `]}}`), 400},
		{"all the values a batch can hold, the last one bad", "/api/v1/indicator-values", sup, "application/json", valuesBody, 400},
		{"a form to login", "/api/v1/auth/login", "", "application/x-www-form-urlencoded", fill("username=demo-admin&password=", "x", ""), 415},
		{"a raw JPEG to photos", "/api/v1/photos", gw, "image/jpeg", fill("\xff\xd8\xff\xe0", "\x00", ""), 415},
	}
	// The machine's speed, to read the figures by: one pass over the long
	// description's megabyte, checking it is UTF-8 (what any server does
	// with a text body before anything else).
	b.Run("reference: one UTF-8 pass over 1 MiB", func(b *testing.B) {
		var text []byte
		for _, c := range cases {
			if c.name == "a long description" {
				text = c.body
			}
		}
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			if !utf8.Valid(text) {
				b.Fatal("not UTF-8")
			}
		}
	})
	var n int
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.body)))
			for b.Loop() {
				n++
				hr := httptest.NewRequest("POST", c.path, bytes.NewReader(c.body))
				hr.RemoteAddr = "192.0.2.10:1234"
				hr.Header.Set("Content-Type", c.ctype)
				hr.Header.Set("Idempotency-Key", fmt.Sprintf("refuse-%d-%d", time.Now().UnixNano(), n))
				if c.token != "" {
					hr.Header.Set("Authorization", "Bearer "+c.token)
				}
				rec := httptest.NewRecorder()
				e.app.Handler.ServeHTTP(rec, hr)
				if rec.Code != c.status || rec.Body.Len() > 16<<10 {
					b.Fatalf("%d (%d bytes): %.300s", rec.Code, rec.Body.Len(), rec.Body.Bytes())
				}
			}
			b.ReportMetric(float64(len(c.body))/1024, "KiB/req")
		})
	}
}
