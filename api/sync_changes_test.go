package api_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"pingan/internal/notify"
)

// scRound is what one catch-up (GET /sync/changes until has_more is false)
// brought, by id, and the cursor it ended with.
type scRound struct {
	incidents, disputes map[string]map[string]any
	notices             []string
	next                string
	pages               int
}

// scCatchUp pages through /sync/changes as user from since ("" for the
// beginning) with the given page size.
func scCatchUp(t *testing.T, e *env, user, since string, limit int) scRound {
	t.Helper()
	out := scRound{incidents: map[string]map[string]any{}, disputes: map[string]map[string]any{}}
	for {
		path := "/api/v1/sync/changes?limit=" + strconv.Itoa(limit)
		if since != "" {
			path += "&since=" + url.QueryEscape(since)
		}
		r := e.do(t, req{method: "GET", path: path, token: e.login(t, user)})
		expect(t, r, 200, "")
		m := r.json(t)
		out.pages++
		for key, dst := range map[string]map[string]map[string]any{"incidents": out.incidents, "disputes": out.disputes} {
			for _, it := range m[key].([]any) {
				item := it.(map[string]any)
				dst[item["id"].(string)] = item
			}
		}
		for _, it := range m["notifications"].([]any) {
			out.notices = append(out.notices, it.(map[string]any)["id"].(string))
		}
		next, _ := m["next_cursor"].(string)
		if m["has_more"] != true {
			out.next = next
			return out
		}
		if out.pages > 200 {
			t.Fatal("the catch-up does not end")
		}
		since = next
	}
}

// TestSyncChangesDisputes (issue #12, 9b; SPEC §6 offline sync): the
// catch-up returns the disputes changed in the caller's scope as well as
// the incidents, without their parties, with the caller's allowed actions;
// a change to a dispute brings it again.
func TestSyncChangesDisputes(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		d := dpCreate(t, e)
		id := d["id"].(string)
		sees := map[string]bool{"demo-gridworker": true, "demo-mediator": true, "demo-county-supervisor": true,
			"demo-gridworker-2": false, "demo-guangrao-mediator": false}
		rounds := map[string]scRound{}
		for user, want := range sees {
			rounds[user] = scCatchUp(t, e, user, "", 100)
			got, ok := rounds[user].disputes[id]
			if ok != want {
				t.Fatalf("%s synced the dispute: %v, want %v", user, ok, want)
			}
			if !ok {
				continue
			}
			if _, has := got["parties"]; has || got["status"] != "registered" || got["case_no"] != d["case_no"] {
				t.Fatalf("%s synced %v", user, got)
			}
		}
		if got := rounds["demo-mediator"].disputes[id]["allowed_actions"]; len(got.([]any)) != 2 {
			t.Fatalf("the mediator's allowed actions: %v", got)
		}
		if got := rounds["demo-gridworker"].disputes[id]["allowed_actions"]; len(got.([]any)) != 0 {
			t.Fatalf("the grid worker's allowed actions: %v", got)
		}
		// The last seconds come once more; then nothing is new.
		e.clock.advance(notify.Lookback + time.Second)
		clear(e.tokens)
		again := scCatchUp(t, e, "demo-gridworker", rounds["demo-gridworker"].next, 100)
		if _, ok := again.disputes[id]; !ok {
			t.Fatalf("the recent dispute was not sent again: %v", again.disputes)
		}
		quiet := scCatchUp(t, e, "demo-gridworker", again.next, 100)
		if len(quiet.disputes)+len(quiet.incidents)+len(quiet.notices) != 0 || quiet.next != again.next {
			t.Fatalf("nothing changed, yet: %+v", quiet)
		}
		// The mediator accepts it: it comes again, accepted.
		dpMust(t, e, "demo-mediator", id, map[string]any{"action": "accept"})
		after := scCatchUp(t, e, "demo-gridworker", quiet.next, 100)
		if len(after.disputes) != 1 || after.disputes[id]["status"] != "accepted" || len(after.incidents) != 0 {
			t.Fatalf("after the accept: %v %v", after.disputes, after.incidents)
		}
	})
}

// TestSyncChangesNeverSkipsLateCommits: a write stamped before a position
// already sent but committed after it was read — a long transaction — is
// still sent (SPEC §6: "a change committed late is never skipped"), for
// incidents, disputes and notifications, and when it commits between two
// pages of one catch-up. Before, the cursor stood at the newest row sent
// and such a write was never seen.
func TestSyncChangesNeverSkipsLateCommits(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		gw := e.userID(t, "demo-gridworker")
		oldInc := e.report(t, "demo-gridworker", nil)["id"].(string)
		oldDsp := dpCreate(t, e)["id"].(string)
		e.clock.advance(time.Minute)
		clear(e.tokens)
		newInc := e.report(t, "demo-gridworker", nil)["id"].(string)
		newInc2 := e.report(t, "demo-gridworker", nil)["id"].(string)
		newDsp := dpCreate(t, e)["id"].(string)
		e.notify(t, notify.Notification{UserID: gw, Kind: notify.KindWarning, Title: "东城街道纠纷数量异常"})
		base := scCatchUp(t, e, "demo-gridworker", "", 100)
		for _, id := range []string{newInc, newInc2} {
			if _, ok := base.incidents[id]; !ok {
				t.Fatalf("incident %s not synced", id)
			}
		}
		if _, ok := base.disputes[newDsp]; !ok || len(base.notices) == 0 {
			t.Fatalf("first catch-up: %v %v", base.disputes, base.notices)
		}

		// Late writes: stamped 5 s before the newest rows sent (a
		// transaction that began then), committed only now.
		late := func() {
			t.Helper()
			e.clock.advance(-5 * time.Second)
			clear(e.tokens)
			expect(t, e.do(t, req{method: "POST", path: "/api/v1/incidents/" + oldInc + "/transitions", token: e.login(t, "demo-supervisor"),
				body: map[string]any{"action": "accept"}, header: map[string]string{"If-Match": `"1"`}}), 200, "")
			dpMust(t, e, "demo-mediator", oldDsp, map[string]any{"action": "accept"})
			e.clock.advance(5 * time.Second)
			clear(e.tokens)
		}
		late()
		lateNotice := uuid.Must(uuid.NewV7())
		ms := uint64(time.Now().Add(-5 * time.Second).UnixMilli())
		for i := 0; i < 6; i++ {
			lateNotice[i] = byte(ms >> (40 - 8*i))
		}
		e.notify(t, notify.Notification{ID: lateNotice.String(), UserID: gw, Kind: notify.KindWarning, Title: "迟到的预警"})

		next := scCatchUp(t, e, "demo-gridworker", base.next, 100)
		if got := next.incidents[oldInc]; got == nil || got["status"] != "accepted" {
			t.Fatalf("the late incident change was skipped: %v", next.incidents)
		}
		if got := next.disputes[oldDsp]; got == nil || got["status"] != "accepted" {
			t.Fatalf("the late dispute change was skipped: %v", next.disputes)
		}
		found := false
		for _, n := range next.notices {
			found = found || n == lateNotice.String()
		}
		if !found {
			t.Fatalf("the late notification was skipped: %v", next.notices)
		}

		// Between two pages of one catch-up: page one sends the first change
		// after the catch-up's start (the accept, 5 s ago), then a write
		// stamped 10 s ago commits.
		r := e.do(t, req{method: "GET", path: "/api/v1/sync/changes?limit=1&since=" + url.QueryEscape(next.next), token: e.login(t, "demo-gridworker")})
		expect(t, r, 200, "")
		if r.json(t)["has_more"] != true {
			t.Fatalf("one page only: %s", r.Body)
		}
		if first := r.json(t)["incidents"].([]any); len(first) != 1 || first[0].(map[string]any)["id"] != oldInc {
			t.Fatalf("page one: %s", r.Body)
		}
		e.clock.advance(-10 * time.Second)
		clear(e.tokens)
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/incidents/" + newInc + "/transitions", token: e.login(t, "demo-supervisor"),
			body: map[string]any{"action": "reject", "note": "重复上报"}, header: map[string]string{"If-Match": `"1"`}}), 200, "")
		e.clock.advance(10 * time.Second)
		clear(e.tokens)
		rest := scCatchUp(t, e, "demo-gridworker", r.json(t)["next_cursor"].(string), 1)
		final := scCatchUp(t, e, "demo-gridworker", rest.next, 100)
		if rest.incidents[newInc]["status"] != "rejected" && final.incidents[newInc]["status"] != "rejected" {
			t.Fatalf("the change committed between pages was skipped: %v / %v", rest.incidents, final.incidents)
		}
	})
}

// TestSyncChangesCursorOfBefore: a cursor made before disputes were synced
// ("<updated_at>|<incident id>#<notification id>") still works, and brings
// every dispute in scope, which the phone never had.
func TestSyncChangesCursorOfBefore(t *testing.T) {
	e := newEnv(t, "sqlite")
	d := dpCreate(t, e)
	inc := e.report(t, "demo-gridworker", nil)
	at, _ := time.Parse(time.RFC3339Nano, inc["updated_at"].(string))
	pos := at.UTC().Format(time.RFC3339Nano) + "|" + inc["id"].(string) + "#"
	key := hmac.New(sha256.New, e.app.Config.DataKey)
	key.Write([]byte("pingan/cursor"))
	m := hmac.New(sha256.New, key.Sum(nil))
	m.Write([]byte(pos))
	old := base64.RawURLEncoding.EncodeToString(append(m.Sum(nil)[:16], pos...))
	got := scCatchUp(t, e, "demo-gridworker", old, 100)
	if _, ok := got.disputes[d["id"].(string)]; !ok {
		t.Fatalf("the disputes in scope were not sent: %v", got.disputes)
	}
	if _, ok := got.incidents[inc["id"].(string)]; ok {
		t.Fatal("the incident at the old cursor was sent again")
	}
	// Tampered: 400.
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/sync/changes?since=" + old[:len(old)-2] + "xx", token: e.login(t, "demo-gridworker")}),
		400, "invalid_argument")
}
