package api_test

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"pingan/internal/demo"
	"pingan/internal/dispute"
)

// Issue #12, part 1: a masked phone (139****5678) must not be recoverable by
// trying its hidden digits through a filter (SPEC §8.5).

// pfSearch lists disputes by a party's phone as user, with more query
// parameters when given.
func pfSearch(t *testing.T, e *env, user, phone, more string) resp {
	t.Helper()
	return e.do(t, req{method: "GET", path: "/api/v1/disputes?phone=" + url.QueryEscape(phone) + more, token: e.login(t, user)})
}

// pfSearches counts the audited phone searches, in all or by one user.
func pfSearches(t *testing.T, e *env, user string) int {
	t.Helper()
	q, args := "SELECT COUNT(*) FROM audit_log WHERE action = ?", []any{dispute.ActionPhoneSearch}
	if user != "" {
		q, args = q+" AND actor_id = ?", append(args, userID(t, e, user))
	}
	var n int
	if err := e.app.DB.SQL().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// pfWrites counts the audit entries of everything but logins (a test's
// first request as a user logs in): the entries a search could write.
func pfWrites(t *testing.T, e *env) int {
	t.Helper()
	var n int
	if err := e.app.DB.SQL().QueryRow("SELECT COUNT(*) FROM audit_log WHERE action NOT LIKE 'auth.%'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// pfBody fails unless r's body is exactly the JSON want.
func pfBody(t *testing.T, r resp, want string) {
	t.Helper()
	var got, exp any
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatalf("body is not JSON: %s", r.Body)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("bad want %s: %v", want, err)
	}
	if !reflect.DeepEqual(got, exp) {
		t.Fatalf("body:\n got %s\nwant %s", r.Body, want)
	}
}

// pfIDs is the ids of a page's items.
func pfIDs(t *testing.T, r resp) []string {
	t.Helper()
	var out []string
	for _, it := range r.json(t)["items"].([]any) {
		out = append(out, it.(map[string]any)["id"].(string))
	}
	return out
}

const pfForbidden = `{"error":{"code":"permission_denied","message":"only mediators and admins may search by a party's phone"}}`

// TestPhoneSearchClosedToWhoMayNotReveal is the example: the grid
// worker who sees 139****5678 and gets 403 on ?reveal=parties tried the
// hidden digits through ?phone= and found the full number with the one
// request that returned the case. A grid worker or supervisor now gets 403
// for every number, before it is even checked, and nothing runs or is
// written.
func TestPhoneSearchClosedToWhoMayNotReveal(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		d := dpCreate(t, e)
		if p := d["parties"].([]any)[0].(map[string]any)["phone"]; p != "139****5678" {
			t.Fatalf("the grid worker sees %v", p)
		}
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/disputes/" + d["id"].(string) + "?reveal=parties",
			token: e.login(t, "demo-gridworker")}), 403, "permission_denied")
		audits := pfWrites(t, e)
		for _, user := range []string{"demo-gridworker", "demo-supervisor", "demo-county-supervisor"} {
			// The loop of the report over the hidden digits, the right one among them.
			for _, hidden := range []string{"0000", "1233", "1234", "9999"} {
				r := pfSearch(t, e, user, "139"+hidden+"5678", "&limit=1")
				expect(t, r, 403, "permission_denied")
				pfBody(t, r, pfForbidden)
			}
			// Masked, malformed or narrowed: still 403, the number unread.
			for _, q := range [][2]string{{"139****5678", ""}, {"12ab", ""}, {dpPhone, "&region=" + demo.FuqianGrid1}} {
				r := pfSearch(t, e, user, q[0], q[1])
				expect(t, r, 403, "permission_denied")
				pfBody(t, r, pfForbidden)
			}
		}
		if n := pfWrites(t, e); n != audits {
			t.Fatalf("refused searches wrote %d audit entries", n-audits)
		}
		// Without the filter the grid worker's list is as before.
		r := e.do(t, req{method: "GET", path: "/api/v1/disputes?limit=1", token: e.login(t, "demo-gridworker")})
		expect(t, r, 200, "")
	})
}

// TestPhoneSearchRefusesMaskedAndMalformed: a mediator who pastes a masked
// number, or a malformed one, gets 400 naming phone and its form, and
// nothing is written.
func TestPhoneSearchRefusesMaskedAndMalformed(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		dpCreate(t, e)
		audits := pfWrites(t, e)
		masked := `{"error":{"code":"invalid_argument","message":"the request has invalid fields","details":{"fields":{"phone":` +
			`"a masked number (139****4321) cannot be searched; a party's full phone number: a mobile number of 11 digits (1[3-9]…) or a landline with its area code, e.g. 0546-8221234"}}}}`
		malformed := `{"error":{"code":"invalid_argument","message":"the request has invalid fields","details":{"fields":{"phone":` +
			`"a party's full phone number: a mobile number of 11 digits (1[3-9]…) or a landline with its area code, e.g. 0546-8221234"}}}}`
		for _, user := range []string{"demo-mediator", "demo-admin"} {
			for _, phone := range []string{"139****5678", "139 **** 5678", "***********", "*"} {
				r := pfSearch(t, e, user, phone, "")
				expect(t, r, 400, "invalid_argument")
				pfBody(t, r, masked)
			}
			for _, phone := range []string{"12ab", "123", "1391234567x", strings.Repeat("1", 40), "１３９１２３４５６７８"} {
				r := pfSearch(t, e, user, phone, "")
				expect(t, r, 400, "invalid_argument")
				pfBody(t, r, malformed)
			}
		}
		if n := pfWrites(t, e); n != audits {
			t.Fatalf("refused searches wrote %d audit entries", n-audits)
		}
	})
}

// TestPhoneSearchInScopeAudited: mediators and admins search in their scope
// only (a region outside it is 403; a case outside it is not found), and
// every search is an audit entry, placed in the region searched, holding
// the number masked and the cases found — never the number.
func TestPhoneSearchInScopeAudited(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		id := dpCreate(t, e)["id"].(string)
		for _, user := range []string{"demo-mediator", "demo-township-mediator", "demo-admin"} {
			r := pfSearch(t, e, user, "139-1234-5678", "")
			expect(t, r, 200, "")
			if got := pfIDs(t, r); len(got) != 1 || got[0] != id {
				t.Fatalf("%s found %v, want [%s]", user, got, id)
			}
			if _, ok := r.json(t)["items"].([]any)[0].(map[string]any)["parties"]; ok {
				t.Fatalf("a list carries parties: %s", r.Body)
			}
		}
		// Another county's mediator: the case is outside their scope.
		r := pfSearch(t, e, "demo-guangrao-mediator", dpPhone, "")
		expect(t, r, 200, "")
		if got := pfIDs(t, r); len(got) != 0 {
			t.Fatalf("found outside the scope: %v", got)
		}
		// Narrowing to a region outside the scope is 403 and is not audited.
		before := pfSearches(t, e, "")
		r = pfSearch(t, e, "demo-guangrao-mediator", dpPhone, "&region="+demo.DongyingDistrict)
		expect(t, r, 403, "permission_denied")
		if pfSearches(t, e, "") != before {
			t.Fatal("a refused search was audited")
		}
		// A number nobody has: an empty page, audited all the same.
		r = pfSearch(t, e, "demo-mediator", "13912345670", "")
		expect(t, r, 200, "")
		if got := pfIDs(t, r); len(got) != 0 {
			t.Fatalf("another number found %v", got)
		}
		if n := pfSearches(t, e, ""); n != 5 {
			t.Fatalf("%d searches audited, want 5", n)
		}
		// The mediator's first search, as the log holds it.
		var role, entity, entityID, details, path string
		err := e.app.DB.SQL().QueryRow(`SELECT actor_role, entity, entity_id, details, region_path FROM audit_log
			WHERE action = ? AND actor_id = ? ORDER BY at, id`, dispute.ActionPhoneSearch, userID(t, e, "demo-mediator")).
			Scan(&role, &entity, &entityID, &details, &path)
		if err != nil {
			t.Fatal(err)
		}
		if role != "mediator" || entity != "dispute" || entityID != "" || path != "/370500/370502/370502003/370502003001/" {
			t.Fatalf("entry: %s %s %q %s", role, entity, entityID, path)
		}
		var got any
		if err := json.Unmarshal([]byte(details), &got); err != nil ||
			!reflect.DeepEqual(got, map[string]any{"phone": "139****5678", "cases": []any{id}}) {
			t.Fatalf("details %s", details)
		}
		var plain int
		if err := e.app.DB.SQL().QueryRow("SELECT COUNT(*) FROM audit_log WHERE details LIKE '%12345678%' OR details LIKE '%1234-5678%'").
			Scan(&plain); err != nil || plain != 0 {
			t.Fatalf("the log holds the number: %d %v", plain, err)
		}
		// The admin reads the searches in the log like any other entry.
		r = e.do(t, req{method: "GET", path: "/api/v1/audit?entity=dispute&limit=100", token: e.login(t, "demo-admin")})
		expect(t, r, 200, "")
		seen := 0
		for _, it := range r.json(t)["items"].([]any) {
			if it.(map[string]any)["action"] == dispute.ActionPhoneSearch {
				seen++
			}
		}
		if seen != 5 {
			t.Fatalf("the admin reads %d searches, want 5", seen)
		}
	})
}

// TestPhoneSearchRateLimited: at most 30 searches per user per hour,
// counted from the audit log, so two instances share one count; the 31st
// is 429 with Retry-After and writes nothing; other users are not limited;
// an hour after the first search, searching works again.
func TestPhoneSearchRateLimited(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		id := dpCreate(t, e)["id"].(string)
		other := reopen(t, e, e.app.Config.JWTKeys)
		for i := 0; i < dispute.MaxPhoneSearches; i++ {
			on := e
			if i%3 == 2 {
				on = other // a second instance on the same database
			}
			phone := "139" + strconv.Itoa(10000000+i)
			if i == dispute.MaxPhoneSearches-1 {
				phone = dpPhone
			}
			r := pfSearch(t, on, "demo-mediator", phone, "")
			expect(t, r, 200, "")
		}
		if n := pfSearches(t, e, "demo-mediator"); n != dispute.MaxPhoneSearches {
			t.Fatalf("%d searches audited", n)
		}
		e.clock.advance(10 * time.Minute)
		clear(e.tokens)
		clear(other.tokens)
		audits := pfWrites(t, e)
		for _, on := range []*env{e, other} {
			r := pfSearch(t, on, "demo-mediator", dpPhone, "")
			expect(t, r, 429, "rate_limited")
			wait, err := strconv.Atoi(r.Header.Get("Retry-After"))
			// The first search leaves the hour about 50 minutes from now.
			if err != nil || wait < 50*60-30 || wait > 50*60 {
				t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
			}
			pfBody(t, r, `{"error":{"code":"rate_limited","message":"too many requests; retry later","details":{"retry_after_seconds":`+
				strconv.Itoa(wait)+`}}}`)
		}
		if n := pfWrites(t, e); n != audits {
			t.Fatalf("refused searches wrote %d audit entries", n-audits)
		}
		// Each user has their own count.
		expect(t, pfSearch(t, e, "demo-mediator-2", dpPhone, ""), 200, "")
		// An hour after the searches, searching works again.
		e.clock.advance(50 * time.Minute)
		clear(e.tokens)
		r := pfSearch(t, e, "demo-mediator", dpPhone, "")
		expect(t, r, 200, "")
		if got := pfIDs(t, r); len(got) != 1 || got[0] != id {
			t.Fatalf("found %v", got)
		}
	})
}

// TestNoFilterOnProtectedFields: no list takes a filter computed on a
// protected field — a party's or a user's phone or ID number, or a party's
// name — so none can be probed a digit at a time.
func TestNoFilterOnProtectedFields(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		dpCreate(t, e)
		for _, c := range []struct{ user, path, param string }{
			{"demo-admin", "/api/v1/disputes?id_number=" + dpIDNumber, "id_number"},
			{"demo-admin", "/api/v1/disputes?party=张三", "party"},
			{"demo-admin", "/api/v1/disputes?name=张三", "name"},
			{"demo-admin", "/api/v1/disputes?sort=phone", "sort"},
			{"demo-admin", "/api/v1/users?phone=13800000005", "phone"},
			{"demo-admin", "/api/v1/users?name=府前网格员", "name"},
			{"demo-admin", "/api/v1/users?sort=phone", "sort"},
			{"demo-admin", "/api/v1/incidents?phone=13800000005", "phone"},
			{"demo-admin", "/api/v1/audit?phone=" + dpPhone, "phone"},
			{"demo-admin", "/api/v1/sync/changes?phone=" + dpPhone, "phone"},
			{"demo-gridworker", "/api/v1/notifications?phone=" + dpPhone, "phone"},
		} {
			r := e.do(t, req{method: "GET", path: c.path, token: e.login(t, c.user)})
			expect(t, r, 400, "invalid_argument")
			pfBody(t, r, `{"error":{"code":"invalid_argument","message":"the request has invalid fields","details":{"fields":{"`+
				c.param+`":"unknown query parameter"}}}}`)
		}
		// Users are listed by username, and a supervisor reads phones masked.
		r := e.do(t, req{method: "GET", path: "/api/v1/users?limit=100", token: e.login(t, "demo-supervisor")})
		expect(t, r, 200, "")
		for _, it := range r.json(t)["items"].([]any) {
			if p, _ := it.(map[string]any)["phone"].(string); p != "" && !strings.Contains(p, "****") {
				t.Fatalf("a user's phone in full: %v", it)
			}
		}
	})
}
