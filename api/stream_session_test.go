package api_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"pingan/internal/auth"
	"pingan/internal/notify"
)

// note is a notification for userID, made now.
func note(userID, title string) notify.Notification {
	return notify.Notification{ID: uuid.Must(uuid.NewV7()).String(), UserID: userID, Kind: notify.KindWarning, Title: title,
		CreatedAt: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
}

// expectEnd waits up to wait for the stream's end event with the reason,
// and for the server to close the stream.
func expectEnd(t *testing.T, s *sseClient, reason string, wait time.Duration) {
	t.Helper()
	ev := s.next(t, wait)
	if ev.event != "end" || ev.id != "" || ev.data != `{"reason":"`+reason+`"}` {
		t.Fatalf("event %+v, want the end of the stream for %s", ev, reason)
	}
	select {
	case <-s.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the server kept the stream open after its end event")
	}
}

// expectRefused checks that the stream does not open: 401, the error body.
func expectRefused(t *testing.T, base, token string) {
	t.Helper()
	s, r := openStream(t, base, token, "")
	if s != nil {
		t.Fatal("the stream opened")
	}
	if r.StatusCode != 401 || r.Header.Get("X-Test-Body") != unauthenticatedBody {
		t.Fatalf("%d %s", r.StatusCode, r.Header.Get("X-Test-Body"))
	}
}

// TestStreamEndsWithItsSession: a stream ends when the account that opened
// it is disabled, when its session is revoked (logout), and when its token
// expires (SPEC §6.1), each with an end event naming the reason; the
// client then reconnects with a fresh token and Last-Event-ID and misses
// nothing.
func TestStreamEndsWithItsSession(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		srv := newServer(t, e)
		admin := e.login(t, "demo-admin")
		id := e.userID(t, "demo-gridworker")
		pair := e.loginPair(t, "demo-gridworker")
		tok := pair["access_token"].(string)

		// Disabled: the stream ends at once on this instance.
		s, _ := openStream(t, srv, tok, "")
		waitStreams(t, e, id, 1)
		seen := note(id, "第一条")
		e.notify(t, seen)
		expectEvent(t, s.next(t, 5*time.Second), seen)
		expect(t, e.do(t, req{method: "PATCH", path: "/api/v1/users/" + id, token: admin, body: map[string]any{"active": false}}), 200, "")
		expectEnd(t, s, "session_ended", 5*time.Second)
		waitStreams(t, e, id, 0)
		expectRefused(t, srv, tok)
		missed := note(id, "停用期间")
		e.notify(t, missed)
		expect(t, e.do(t, req{method: "PATCH", path: "/api/v1/users/" + id, token: admin, body: map[string]any{"active": true}}), 200, "")
		// Re-enabled, the old session stays revoked: a new login resumes.
		expectRefused(t, srv, tok)
		pair = e.loginPair(t, "demo-gridworker")
		s, _ = openStream(t, srv, pair["access_token"].(string), seen.ID)
		expectEvent(t, s.next(t, 5*time.Second), missed)

		// Logged out: the session's stream ends; a short request may still
		// use the access token until it expires, a stream may not.
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/auth/logout", body: map[string]any{"refresh_token": pair["refresh_token"]}}), 204, "")
		expectEnd(t, s, "session_ended", 5*time.Second)
		expectRefused(t, srv, pair["access_token"].(string))
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/me", token: pair["access_token"].(string)}), 200, "")

		// Expired: a token living 2 s ends its stream after 2 s.
		now := e.clock.now().Unix()
		short := e.rawToken(t, `{"iss":"pingan","aud":["pingan-api"],"sub":"`+id+`","iat":`+strconv.FormatInt(now, 10)+
			`,"exp":`+strconv.FormatInt(now+2, 10)+`}`)
		start := time.Now()
		s, _ = openStream(t, srv, short, missed.ID)
		s.quiet(t, time.Second)
		expectEnd(t, s, "token_expired", 5*time.Second)
		if d := time.Since(start); d < time.Second || d > 5*time.Second {
			t.Fatalf("a token of 2 s ended its stream after %v", d)
		}
		later := note(id, "过期之后")
		e.notify(t, later)
		s, _ = openStream(t, srv, e.loginPair(t, "demo-gridworker")["access_token"].(string), missed.ID)
		expectEvent(t, s.next(t, 5*time.Second), later)
	})
}

// TestStreamEndsWithinRecheck: changes made where the stream is not
// watching — on another instance, or by time alone — end it within
// auth.SessionRecheck (SPEC §6.1: within 30 s).
func TestStreamEndsWithinRecheck(t *testing.T) {
	if auth.SessionRecheck > 10*time.Second {
		t.Fatalf("SessionRecheck %v: a stream could outlive its session by more than a check", auth.SessionRecheck)
	}
	e := newEnv(t, "sqlite")
	srv := newServer(t, e)
	other := reopen(t, e, e.app.Config.JWTKeys)
	admin := other.login(t, "demo-admin")
	gw, med := e.userID(t, "demo-gridworker"), e.userID(t, "demo-mediator")
	// The grid worker's token was issued 14 min ago: it has a minute left.
	now := e.clock.now().Unix()
	old := e.rawToken(t, `{"iss":"pingan","aud":["pingan-api"],"sub":"`+gw+`","iat":`+strconv.FormatInt(now-14*60, 10)+
		`,"exp":`+strconv.FormatInt(now+60, 10)+`}`)
	sGW, _ := openStream(t, srv, old, "")
	sMed, _ := openStream(t, srv, e.login(t, "demo-mediator"), "")
	waitStreams(t, e, gw, 1)
	waitStreams(t, e, med, 1)

	// Both at once, so that one check round sees both: the mediator is
	// disabled through the other instance, and two minutes pass (on the
	// clock only: the stream's own timer still waits a minute).
	start := time.Now()
	expect(t, other.do(t, req{method: "PATCH", path: "/api/v1/users/" + med, token: admin, body: map[string]any{"active": false}}), 200, "")
	e.clock.advance(2 * time.Minute)
	expectEnd(t, sMed, "session_ended", auth.SessionRecheck+3*time.Second)
	expectEnd(t, sGW, "token_expired", auth.SessionRecheck+3*time.Second-time.Since(start))
	t.Logf("both streams ended %v after the changes", time.Since(start).Round(100*time.Millisecond))
}
