package api_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"pingan/internal/demo"
	"pingan/internal/indicator"
	"pingan/internal/notify"
	"pingan/internal/region"
)

// gzipped sends r with Accept-Encoding: gzip, and returns the answer decoded
// as a phone's HTTP stack would see it, with the bytes that went on the
// wire and whether they were gzipped.
func (e *env) gzipped(t *testing.T, r req) (decoded resp, wire int, coded bool) {
	t.Helper()
	if r.header == nil {
		r.header = map[string]string{}
	}
	r.header["Accept-Encoding"] = "gzip"
	out := e.do(t, r)
	wire = len(out.Body)
	if v := out.Header.Values("Vary"); !slices.Contains(v, "Accept-Encoding") {
		t.Errorf("%s %s: Vary %q", r.method, r.path, v)
	}
	switch ce := out.Header.Get("Content-Encoding"); ce {
	case "":
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(out.Body))
		if err != nil {
			t.Fatalf("%s %s: not gzip: %v", r.method, r.path, err)
		}
		if out.Body, err = io.ReadAll(zr); err != nil {
			t.Fatalf("%s %s: bad gzip: %v", r.method, r.path, err)
		}
		coded = true
	default:
		t.Fatalf("%s %s: Content-Encoding %q", r.method, r.path, ce)
	}
	return out, wire, coded
}

// TestGzip: answers of 1 KiB or more are gzipped for a client that accepts
// it and decode to the very bytes a client without gzip gets; smaller ones
// are not; sync's results and idempotent replays are unaffected.
func TestGzip(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		sup, gw := e.login(t, "demo-supervisor"), e.login(t, "demo-gridworker")

		// A sync batch of 30 reports: its answer is gzipped, and each result
		// holds the plain JSON answer of its operation.
		ops := []map[string]any{}
		for i := range 30 {
			ops = append(ops, map[string]any{"idempotency_key": fmt.Sprintf("gzip-sync-%d", i), "method": "POST",
				"path": "/api/v1/incidents", "body": incidentBody(nil)})
		}
		batch, _, coded := e.gzipped(t, req{method: "POST", path: "/api/v1/sync", token: gw, body: map[string]any{"operations": ops}})
		if !coded {
			t.Fatalf("a sync answer of %d bytes was not gzipped", len(batch.Body))
		}
		for i, r := range syncResults(t, batch) {
			var inc map[string]any
			if err := json.Unmarshal(r.Body, &inc); r.Status != 201 || err != nil || inc["status"] != "reported" {
				t.Fatalf("operation %d: %d %v: %s", i, r.Status, err, r.Body)
			}
		}

		page := req{method: "GET", path: "/api/v1/incidents?limit=100", token: sup}
		plain := e.do(t, page)
		expect(t, plain, 200, "")
		if plain.Header.Get("Content-Encoding") != "" || plain.Header.Get("Vary") != "Accept-Encoding" {
			t.Fatalf("without Accept-Encoding: %v", plain.Header)
		}
		got, wire, coded := e.gzipped(t, page)
		if got.Code != 200 || !coded || !bytes.Equal(got.Body, plain.Body) {
			t.Fatalf("a page of incidents: %d, gzipped %v, %d bytes decoded, want %d", got.Code, coded, len(got.Body), len(plain.Body))
		}
		if n := len(plain.json(t)["items"].([]any)); n != 30 || wire*4 > len(plain.Body) {
			t.Fatalf("%d items: %d bytes on the wire for %d", n, wire, len(plain.Body))
		}

		// Below 1 KiB: as it is.
		me, _, coded := e.gzipped(t, req{method: "GET", path: "/api/v1/me", token: gw})
		if me.Code != 200 || coded || len(me.Body) >= 1024 || me.json(t)["username"] != "demo-gridworker" {
			t.Fatalf("/me: %d gzipped %v: %s", me.Code, coded, me.Body)
		}
		// An error body is an answer like any other: a 400 naming 60
		// unknown parameters is over a KiB.
		var q []string
		for i := range 60 {
			q = append(q, fmt.Sprintf("unknown_parameter_%02d=1", i))
		}
		bad, _, coded := e.gzipped(t, req{method: "GET", path: "/api/v1/incidents?" + strings.Join(q, "&"), token: sup})
		if bad.Code != 400 || !coded || bad.errCode(t) != "invalid_argument" {
			t.Fatalf("a long 400: %d gzipped %v: %s", bad.Code, coded, bad.Body)
		}

		// The metrics compress themselves, once.
		m, _, coded := e.gzipped(t, req{method: "GET", path: "/metrics"})
		if m.Code != 200 || !coded || !bytes.Contains(m.Body, []byte("pingan_http_requests_total")) {
			t.Fatalf("/metrics: %d gzipped %v: %.200s", m.Code, coded, m.Body)
		}

		// A repeat with the same key gets the first answer, in either coding.
		key := newKey()
		create := req{method: "POST", path: "/api/v1/disputes", token: gw, body: disputeBody(nil), header: map[string]string{"Idempotency-Key": key}}
		first, _, _ := e.gzipped(t, create)
		expect(t, first, 201, "")
		create.header = map[string]string{"Idempotency-Key": key}
		again := e.do(t, create)
		if again.Code != 201 || !bytes.Equal(again.Body, first.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay: %d %v\n%s\nfirst\n%s", again.Code, again.Header, again.Body, first.Body)
		}
		third, _, _ := e.gzipped(t, create)
		if third.Code != 201 || !bytes.Equal(third.Body, first.Body) {
			t.Fatalf("gzipped replay: %d %s", third.Code, third.Body)
		}
	})
}

// TestGzipNeverOnTheStream: the notification stream is not gzipped even
// when the client accepts it, and each event arrives on its own, at once.
func TestGzipNeverOnTheStream(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		srv := newServer(t, e)
		gwID := e.userID(t, "demo-gridworker")
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		r, _ := http.NewRequestWithContext(ctx, "GET", srv+"/api/v1/notifications/stream", nil)
		r.Header.Set("Authorization", "Bearer "+e.login(t, "demo-gridworker"))
		// Set by hand, so that Go's client neither adds it nor decodes.
		r.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "" || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("%d %v", resp.StatusCode, resp.Header)
		}
		lines := make(chan string, 100)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		line := func() string {
			select {
			case l := <-lines:
				return l
			case <-time.After(5 * time.Second):
				t.Fatal("nothing arrived within 5 s: the stream is held back")
			}
			return ""
		}
		// The first 13 bytes arrive alone, far below the 1 KiB gzip waits for.
		if l := line(); l != "retry: 3000" {
			t.Fatalf("first line %q", l)
		}
		if l := line(); l != "" {
			t.Fatalf("then %q", l)
		}
		waitStreams(t, e, gwID, 1)
		for i := 1; i <= 3; i++ {
			n := notify.Notification{UserID: gwID, Kind: notify.KindWarning, Title: fmt.Sprintf("预警 %d", i)}
			e.notify(t, n)
			if l := line(); !strings.HasPrefix(l, "id: ") {
				t.Fatalf("event %d: %q", i, l)
			}
			if l := line(); l != "event: notification" {
				t.Fatalf("event %d: %q", i, l)
			}
			if l := line(); !strings.HasPrefix(l, "data: {") || !strings.Contains(l, n.Title) {
				t.Fatalf("event %d: %q", i, l)
			}
			if l := line(); l != "" {
				t.Fatalf("event %d: then %q", i, l)
			}
		}
	})
}

var contentTag = regexp.MustCompile(`^"[0-9a-f]{32}"$`)

// TestSingleObjectETags: every single-object GET answers an ETag and 304
// for an If-None-Match that names it (alone, weak, in a list, or *), and a
// new ETag once the object changed (SPEC §6).
func TestSingleObjectETags(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		gw, sup, admin := e.login(t, "demo-gridworker"), e.login(t, "demo-supervisor"), e.login(t, "demo-admin")
		gwID := e.userID(t, "demo-gridworker")
		inc := e.report(t, "demo-gridworker", nil)
		dsp := e.do(t, req{method: "POST", path: "/api/v1/disputes", token: gw, body: disputeBody(nil)})
		expect(t, dsp, 201, "")
		version := regexp.MustCompile(`^"[0-9]+"$`)
		job := e.do(t, req{method: "POST", path: "/api/v1/index/recompute", token: admin, body: map[string]any{"period": "month", "at": "2026-10"}})
		expect(t, job, 202, "")

		type object struct {
			path, token string
			tag         *regexp.Regexp
			change      func() // changes what the caller sees
		}
		objects := []object{
			{"/api/v1/me", gw, contentTag, func() {
				expect(t, e.do(t, req{method: "PATCH", path: "/api/v1/users/" + gwID, token: admin, body: map[string]any{"name": "王网格"}}), 200, "")
			}},
			{"/api/v1/users/" + gwID, sup, contentTag, func() {
				expect(t, e.do(t, req{method: "PATCH", path: "/api/v1/users/" + gwID, token: admin, body: map[string]any{"name": "王网格员"}}), 200, "")
			}},
			{"/api/v1/regions/" + demo.FuqianGrid1, gw, contentTag, func() {
				r, err := e.app.DB.FindRegionByCode(context.Background(), demo.FuqianGrid1)
				if err != nil {
					t.Fatal(err)
				}
				r.Population++
				if err := e.app.DB.UpsertRegions(context.Background(), []region.Region{r}); err != nil {
					t.Fatal(err)
				}
			}},
			{"/api/v1/regions/" + demo.CityCode, admin, contentTag, nil},
			{"/api/v1/indicators/petitions", sup, version, func() {
				expect(t, e.do(t, req{method: "PATCH", path: "/api/v1/indicators/petitions", token: admin, body: map[string]any{"weight": 1.5},
					header: map[string]string{"If-Match": `"1"`}}), 200, "")
			}},
			{"/api/v1/index/jobs/" + job.json(t)["id"].(string), admin, contentTag, func() {
				if err := e.app.Ranking.RunPending(context.Background()); err != nil {
					t.Fatal(err)
				}
			}},
			{"/api/v1/incidents/" + inc["id"].(string), sup, version, nil},
			{"/api/v1/disputes/" + dsp.json(t)["id"].(string), gw, version, nil},
		}
		for _, o := range objects {
			first := e.do(t, req{method: "GET", path: o.path, token: o.token})
			expect(t, first, 200, "")
			tag := first.Header.Get("ETag")
			if !o.tag.MatchString(tag) {
				t.Fatalf("%s: ETag %q", o.path, tag)
			}
			for _, inm := range []string{tag, "W/" + tag, `"nope", ` + tag, "*"} {
				nm := e.do(t, req{method: "GET", path: o.path, token: o.token, header: map[string]string{"If-None-Match": inm}})
				if nm.Code != 304 || len(nm.Body) != 0 || nm.Header.Get("ETag") != tag {
					t.Fatalf("%s If-None-Match %s: %d %v %s", o.path, inm, nm.Code, nm.Header, nm.Body)
				}
			}
			// A 304 is no answer with a body, compressed or not.
			nm, _, coded := e.gzipped(t, req{method: "GET", path: o.path, token: o.token, header: map[string]string{"If-None-Match": tag}})
			if nm.Code != 304 || coded || len(nm.Body) != 0 {
				t.Fatalf("%s gzip If-None-Match: %d %v", o.path, nm.Code, nm.Header)
			}
			// The ETag names the object, not the coding.
			if z, _, _ := e.gzipped(t, req{method: "GET", path: o.path, token: o.token}); z.Header.Get("ETag") != tag || !bytes.Equal(z.Body, first.Body) {
				t.Fatalf("%s gzipped: ETag %q, want %q", o.path, z.Header.Get("ETag"), tag)
			}
			other := e.do(t, req{method: "GET", path: o.path, token: o.token, header: map[string]string{"If-None-Match": `"0", W/"1f"`}})
			if other.Code != 200 || !bytes.Equal(other.Body, first.Body) || other.Header.Get("ETag") != tag {
				t.Fatalf("%s with other ETags: %d %s", o.path, other.Code, other.Body)
			}
			if o.change == nil {
				continue
			}
			o.change()
			changed := e.do(t, req{method: "GET", path: o.path, token: o.token, header: map[string]string{"If-None-Match": tag}})
			if changed.Code != 200 || changed.Header.Get("ETag") == tag || !o.tag.MatchString(changed.Header.Get("ETag")) {
				t.Fatalf("%s after a change: %d ETag %q (was %q)", o.path, changed.Code, changed.Header.Get("ETag"), tag)
			}
		}
	})
}

// TestGetIndicator: GET /indicators/{code} answers what the list holds for
// that code, with its version as ETag, to the roles that read the list.
func TestGetIndicator(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		sup := e.login(t, "demo-supervisor")
		list := e.do(t, req{method: "GET", path: "/api/v1/indicators", token: sup})
		expect(t, list, 200, "")
		items := list.json(t)["items"].([]any)
		if len(items) == 0 {
			t.Fatal("no indicators")
		}
		for _, it := range items {
			want := it.(map[string]any)
			code := want["code"].(string)
			r := e.do(t, req{method: "GET", path: "/api/v1/indicators/" + code, token: sup})
			expect(t, r, 200, "")
			sameJSON(t, code, r.json(t), want)
			if r.Header.Get("ETag") != fmt.Sprintf(`"%v"`, want["version"]) {
				t.Fatalf("%s: ETag %q for version %v", code, r.Header.Get("ETag"), want["version"])
			}
		}
		missing := e.do(t, req{method: "GET", path: "/api/v1/indicators/no_such_indicator", token: sup})
		expect(t, missing, 404, "not_found")
		for _, who := range []string{"demo-gridworker", "demo-mediator"} {
			expect(t, e.do(t, req{method: "GET", path: "/api/v1/indicators/petitions", token: e.login(t, who)}), 403, "permission_denied")
		}
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/indicators/petitions?x=1", token: sup}), 400, "invalid_argument")
	})
}

// TestCompressedSizes measures what gzip saves on the two answers of issue
// #12 (docs/performance.md): a page of 100 incidents, and the community
// ranking of a month. Run with -v to see the figures.
func TestCompressedSizes(t *testing.T) {
	e := newEnv(t, "sqlite")
	ctx := context.Background()
	loc := e.app.Ranking.Location()
	if err := demo.Load(ctx, demo.Deps{Store: e.app.DB, Users: e.app.Users, Photos: e.app.Photos, Cases: true,
		Now: e.clock.now(), Loc: loc}); err != nil {
		t.Fatal(err)
	}
	sup, admin := e.login(t, "demo-supervisor"), e.login(t, "demo-admin")
	month := indicator.Shift(indicator.Month, indicator.PeriodOf(indicator.Month, e.clock.now(), loc), -1, loc)
	expect(t, e.do(t, req{method: "POST", path: "/api/v1/index/recompute", token: admin,
		body: map[string]any{"period": "month", "at": month}}), 202, "")
	if err := e.app.Ranking.RunPending(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what, path string
		ratio      int // gzip saves at least this factor
	}{
		{"a page of 100 incidents", "/api/v1/incidents?limit=100", 4},
		{"the community ranking of " + month, "/api/v1/index/rankings?level=community&period=month&at=" + month, 4},
	} {
		plain := e.do(t, req{method: "GET", path: c.path, token: sup})
		expect(t, plain, 200, "")
		got, wire, coded := e.gzipped(t, req{method: "GET", path: c.path, token: sup})
		if !coded || !bytes.Equal(got.Body, plain.Body) || wire*c.ratio > len(plain.Body) {
			t.Fatalf("%s: gzipped %v, %d bytes for %d", c.what, coded, wire, len(plain.Body))
		}
		t.Logf("%s: %d bytes, gzipped %d (%.1f×)", c.what, len(plain.Body), wire, float64(len(plain.Body))/float64(wire))
	}
}
