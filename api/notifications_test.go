package api_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/google/uuid"

	"pingan/internal/app"
	"pingan/internal/notify"
)

func init() {
	// The stream's body is text; the spec describes it as a string.
	openapi3filter.RegisterBodyDecoder("text/event-stream", openapi3filter.FileBodyDecoder)
}

func (e *env) userID(t *testing.T, username string) string {
	t.Helper()
	u, err := e.app.DB.FindUserByUsername(context.Background(), username)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func (e *env) notify(t *testing.T, ns ...notify.Notification) {
	t.Helper()
	if err := e.app.Notify.Notify(context.Background(), ns...); err != nil {
		t.Fatal(err)
	}
}

// notificationJSON is the body the API should show for n.
func notificationJSON(n notify.Notification) map[string]any {
	null := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	var read any
	if n.ReadAt != nil {
		read = n.ReadAt.UTC().Format(time.RFC3339Nano)
	}
	return map[string]any{"id": n.ID, "user_id": n.UserID, "kind": n.Kind, "case_kind": null(n.CaseKind),
		"case_id": null(n.CaseID), "case_no": null(n.CaseNo), "title": n.Title,
		"created_at": n.CreatedAt.UTC().Format(time.RFC3339Nano), "read_at": read}
}

func sameJSON(t *testing.T, what string, got any, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	var gv, wv any
	_ = json.Unmarshal(g, &gv)
	_ = json.Unmarshal(w, &wv)
	if !reflect.DeepEqual(gv, wv) {
		t.Fatalf("%s:\n got %s\nwant %s", what, g, w)
	}
}

// inbox is the three notifications of TestNotificationInbox, oldest first.
func inbox(userID string) []notify.Notification {
	at := time.Date(2026, 3, 1, 8, 0, 0, 123456000, time.UTC)
	return []notify.Notification{
		{ID: "0195500a-0000-7000-8000-000000000001", UserID: userID, Kind: notify.KindAssigned, CaseKind: notify.CaseDispute,
			CaseID: "0195500a-1111-7000-8000-000000000001", CaseNo: "JF-370502-20260301-0001", Title: "新的纠纷已分派给您", CreatedAt: at},
		{ID: "0195500a-0000-7000-8000-000000000002", UserID: userID, Kind: notify.KindOverdue, CaseKind: notify.CaseIncident,
			CaseID: "0195500a-1111-7000-8000-000000000002", CaseNo: "SJ-370502-20260301-0002", Title: "事件已超期", CreatedAt: at.Add(time.Minute)},
		{ID: "0195500a-0000-7000-8000-000000000003", UserID: userID, Kind: notify.KindWarning, Title: "东城街道纠纷数量异常", CreatedAt: at.Add(2 * time.Minute)},
	}
}

func TestNotificationInbox(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		gw, med := e.login(t, "demo-gridworker"), e.login(t, "demo-mediator")
		gwID, medID := e.userID(t, "demo-gridworker"), e.userID(t, "demo-mediator")
		ns := inbox(gwID)
		e.notify(t, ns...)
		theirs := notify.Notification{UserID: medID, Kind: notify.KindEscalated, CaseKind: notify.CaseDispute,
			CaseID: "0195500a-1111-7000-8000-000000000009", CaseNo: "JF-370502-20260301-0009", Title: "纠纷已上报至街道"}
		before := e.clock.now().UTC().Truncate(time.Microsecond)
		e.notify(t, theirs)

		list := func(tok, query string) map[string]any {
			t.Helper()
			r := e.do(t, req{method: "GET", path: "/api/v1/notifications" + query, token: tok})
			expect(t, r, 200, "")
			return r.json(t)
		}
		want := []any{notificationJSON(ns[2]), notificationJSON(ns[1]), notificationJSON(ns[0])}
		sameJSON(t, "inbox", list(gw, ""), map[string]any{"items": want, "next_cursor": nil})

		// Pages of two: the cursor continues after the last item.
		first := list(gw, "?limit=2")
		sameJSON(t, "first page", first["items"], want[:2])
		cursor, _ := first["next_cursor"].(string)
		if cursor == "" {
			t.Fatalf("no next_cursor on a full page: %v", first)
		}
		sameJSON(t, "second page", list(gw, "?limit=2&cursor="+url.QueryEscape(cursor)), map[string]any{"items": want[2:], "next_cursor": nil})

		// The mediator sees only their own, with the id and time filled in.
		mine := list(med, "")["items"].([]any)
		if len(mine) != 1 {
			t.Fatalf("mediator's inbox: %v", mine)
		}
		got := mine[0].(map[string]any)
		created, err := time.Parse(time.RFC3339Nano, got["created_at"].(string))
		if err != nil || created.Before(before) || created.After(e.clock.now()) || !notify.ValidID(got["id"].(string)) ||
			got["id"].(string) <= ns[2].ID {
			t.Fatalf("filled in: %v (%v)", got, err)
		}
		theirs.ID, theirs.CreatedAt = got["id"].(string), created
		sameJSON(t, "mediator's notification", got, notificationJSON(theirs))

		// Unread only, after one is read.
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/notifications/" + ns[1].ID + "/read", token: gw}), 200, "")
		sameJSON(t, "unread", list(gw, "?unread=true"), map[string]any{"items": []any{want[0], want[2]}, "next_cursor": nil})
		if all := list(gw, "?unread=false")["items"].([]any); len(all) != 3 || all[1].(map[string]any)["read_at"] == nil {
			t.Fatalf("unread=false: %v", all)
		}

		for _, q := range []string{"?unread=yes", "?limit=0", "?limit=101", "?cursor=bm90LWEtY3Vyc29y", "?region=370502", "?unread=true&unread=false"} {
			r := e.do(t, req{method: "GET", path: "/api/v1/notifications" + q, token: gw})
			expect(t, r, 400, "invalid_argument")
		}
		// A cursor of another list (signed, but not a notification id) is refused too.
		e.report(t, "demo-gridworker", nil)
		e.report(t, "demo-gridworker", nil)
		page := e.do(t, req{method: "GET", path: "/api/v1/incidents?limit=1", token: gw}).json(t)
		if c, ok := page["next_cursor"].(string); ok {
			expect(t, e.do(t, req{method: "GET", path: "/api/v1/notifications?cursor=" + url.QueryEscape(c), token: gw}), 400, "invalid_argument")
		} else {
			t.Fatalf("no incident cursor: %v", page)
		}
	})
}

func TestNotificationRead(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		gw, med := e.login(t, "demo-gridworker"), e.login(t, "demo-mediator")
		ns := inbox(e.userID(t, "demo-gridworker"))
		e.notify(t, ns...)
		path := "/api/v1/notifications/" + ns[0].ID + "/read"
		audits := countRows(t, e, "audit_log")

		key := map[string]string{"Idempotency-Key": "read-1"}
		first := e.do(t, req{method: "POST", path: path, token: gw, header: key})
		expect(t, first, 200, "")
		var readAt time.Time
		if err := e.app.DB.SQL().QueryRow("SELECT read_at FROM notifications WHERE id = ?", ns[0].ID).Scan(&readAt); err != nil {
			t.Fatal(err)
		}
		read := ns[0]
		read.ReadAt = &readAt
		sameJSON(t, "read", first.json(t), notificationJSON(read))
		if d := e.clock.now().Sub(readAt); d < 0 || d > time.Minute {
			t.Fatalf("read_at %v is not now", readAt)
		}
		if n := countRows(t, e, "audit_log"); n != audits+1 {
			t.Fatalf("audit entries %d → %d, want one for the read", audits, n)
		}

		// The same key replays; a second read later keeps the first read_at
		// and writes nothing.
		again := e.do(t, req{method: "POST", path: path, token: gw, header: key})
		if again.Code != 200 || string(again.Body) != string(first.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay: %d %s", again.Code, again.Body)
		}
		e.clock.advance(10 * time.Minute) // within the token's life
		second := e.do(t, req{method: "POST", path: path, token: gw, body: map[string]any{}})
		expect(t, second, 200, "")
		sameJSON(t, "second read", second.json(t), notificationJSON(read))
		if n := countRows(t, e, "audit_log"); n != audits+1 {
			t.Fatalf("a second read wrote an audit entry (%d → %d)", audits, n)
		}

		// Someone else's notification, or no such id, is 404 and stays unread.
		other := "/api/v1/notifications/" + ns[1].ID + "/read"
		expect(t, e.do(t, req{method: "POST", path: other, token: med}), 404, "not_found")
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/notifications/not-an-id/read", token: gw}), 404, "not_found")
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/notifications/0195500a-0000-7000-8000-00000000ffff/read", token: gw}), 404, "not_found")
		var unread int
		if err := e.app.DB.SQL().QueryRow("SELECT COUNT(*) FROM notifications WHERE read_at IS NULL").Scan(&unread); err != nil || unread != 2 {
			t.Fatalf("unread rows %d (%v), want 2", unread, err)
		}
		// A body, if any, is an empty object; and the key is required.
		expect(t, e.do(t, req{method: "POST", path: other, token: gw, body: map[string]any{"read": true}}), 400, "invalid_argument")
		expect(t, e.do(t, req{method: "POST", path: other, token: gw, header: map[string]string{"Idempotency-Key": ""}}), 400, "invalid_argument")
		expect(t, e.do(t, req{method: "POST", path: other + "?now=1", token: gw}), 400, "invalid_argument")
	})
}

func TestNotificationDedupe(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		gwID, medID := e.userID(t, "demo-gridworker"), e.userID(t, "demo-mediator")
		n := func(user, key string) notify.Notification {
			return notify.Notification{UserID: user, Kind: notify.KindOverdue, CaseKind: notify.CaseDispute,
				CaseID: "0195500a-1111-7000-8000-000000000001", CaseNo: "JF-370502-20260301-0001", Title: "纠纷已超期", DedupeKey: key}
		}
		// Twice in one call and once more later: one row. The same key for
		// another user is that user's own; no key never dedupes.
		e.notify(t, n(gwID, "overdue:JF-370502-20260301-0001"), n(gwID, "overdue:JF-370502-20260301-0001"))
		e.notify(t, n(gwID, "overdue:JF-370502-20260301-0001"), n(medID, "overdue:JF-370502-20260301-0001"))
		e.notify(t, n(gwID, ""), n(gwID, ""))
		count := func(where string, args ...any) int {
			t.Helper()
			var c int
			if err := e.app.DB.SQL().QueryRow("SELECT COUNT(*) FROM notifications WHERE "+where, args...).Scan(&c); err != nil {
				t.Fatal(err)
			}
			return c
		}
		if got := count("user_id = ? AND dedupe_key = ?", gwID, "overdue:JF-370502-20260301-0001"); got != 1 {
			t.Fatalf("deduplicated rows %d, want 1", got)
		}
		if got := count("user_id = ? AND dedupe_key IS NULL", gwID); got != 2 {
			t.Fatalf("rows without a key %d, want 2", got)
		}
		if got := count("user_id = ?", medID); got != 1 {
			t.Fatalf("the mediator's rows %d, want 1", got)
		}

		// Notify joins the caller's transaction: a rollback takes it back.
		ctx := context.Background()
		errAbort := errors.New("abort")
		err := e.app.DB.InTx(ctx, func(ctx context.Context) error {
			if err := e.app.Notify.Notify(ctx, n(medID, "rolled-back")); err != nil {
				return err
			}
			return errAbort
		})
		if !errors.Is(err, errAbort) || count("dedupe_key = ?", "rolled-back") != 0 {
			t.Fatalf("rolled back: %v, rows %d", err, count("dedupe_key = ?", "rolled-back"))
		}
		// A malformed notification is a programming error; nothing is written.
		before := count("1 = 1")
		for _, bad := range []notify.Notification{
			{UserID: gwID, Kind: "gossip", Title: "x"},
			{UserID: gwID, Kind: notify.KindWarning},
			{Kind: notify.KindWarning, Title: "x"},
			{UserID: gwID, Kind: notify.KindWarning, Title: "x", CaseKind: "parcel"},
			{UserID: gwID, Kind: notify.KindWarning, Title: strings.Repeat("长", notify.MaxTitle+1)},
		} {
			if err := e.app.Notify.Notify(ctx, n(gwID, "fine"), bad); err == nil {
				t.Errorf("accepted %+v", bad)
			}
		}
		if got := count("1 = 1"); got != before {
			t.Fatalf("rows %d → %d after refused notifications", before, got)
		}
		// No webhook is configured: no deliveries are queued.
		if got := countRows(t, e, "webhook_deliveries"); got != 0 {
			t.Fatalf("%d webhook deliveries without a webhook", got)
		}
	})
}

// sseEvent is one event read from a stream.
type sseEvent struct{ id, event, data string }

// sseClient is an open stream read by a goroutine.
type sseClient struct {
	resp   *http.Response
	cancel context.CancelFunc
	events chan sseEvent
	ended  chan struct{}
}

// openStream connects to the stream; a non-200 answer is returned with no
// client.
func openStream(t *testing.T, base, token, lastID string) (*sseClient, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	r, err := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/notifications/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Authorization", "Bearer "+token)
	if lastID != "" {
		r.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		body := make([]byte, 4096)
		n, _ := resp.Body.Read(body)
		resp.Body.Close()
		cancel()
		validateAgainstSpec(t, httptest.NewRequest("GET", "/api/v1/notifications/stream", nil), resp.StatusCode, resp.Header, body[:n])
		resp.Header.Set("X-Test-Body", string(body[:n]))
		return nil, resp
	}
	c := &sseClient{resp: resp, cancel: cancel, events: make(chan sseEvent, 100), ended: make(chan struct{})}
	t.Cleanup(c.close)
	go c.read()
	return c, resp
}

func (c *sseClient) read() {
	defer close(c.ended)
	var ev sseEvent
	buf := make([]byte, 0, 4096)
	chunk := make([]byte, 4096)
	for {
		n, err := c.resp.Body.Read(chunk)
		buf = append(buf, chunk[:n]...)
		for {
			line, rest, ok := strings.Cut(string(buf), "\n")
			if !ok {
				break
			}
			buf = []byte(rest)
			switch {
			case line == "":
				if ev.id != "" || ev.data != "" {
					c.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[6:]
			}
		}
		if err != nil {
			return
		}
	}
}

func (c *sseClient) close() {
	c.cancel()
	c.resp.Body.Close()
	<-c.ended
}

// next returns the next event, failing after wait.
func (c *sseClient) next(t *testing.T, wait time.Duration) sseEvent {
	t.Helper()
	select {
	case ev := <-c.events:
		return ev
	case <-time.After(wait):
		t.Fatalf("no event within %v", wait)
	}
	return sseEvent{}
}

// quiet fails if an event arrives within d.
func (c *sseClient) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case ev := <-c.events:
		t.Fatalf("unexpected event %+v", ev)
	case <-time.After(d):
	}
}

// expectEvent checks that ev is the notification event of n.
func expectEvent(t *testing.T, ev sseEvent, n notify.Notification) {
	t.Helper()
	if ev.id != n.ID || ev.event != "notification" {
		t.Fatalf("event %+v, want notification %s", ev, n.ID)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(ev.data), &got); err != nil {
		t.Fatalf("event data: %v: %s", err, ev.data)
	}
	sameJSON(t, "event data", got, notificationJSON(n))
}

// waitStreams waits until userID has want open streams on the instance.
func waitStreams(t *testing.T, e *env, userID string, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for e.app.Notify.OpenStreams(userID) != want {
		if time.Now().After(deadline) {
			t.Fatalf("open streams %d, want %d", e.app.Notify.OpenStreams(userID), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestNotificationStream(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		srv := newServer(t, e)
		gw := e.login(t, "demo-gridworker")
		gwID, medID := e.userID(t, "demo-gridworker"), e.userID(t, "demo-mediator")
		// What exists before the stream opens is not sent.
		e.notify(t, notify.Notification{UserID: gwID, Kind: notify.KindWarning, Title: "旧的预警"})
		mk := func(i int) notify.Notification {
			return notify.Notification{UserID: gwID, Kind: notify.KindAssigned, CaseKind: notify.CaseDispute,
				CaseID: fmt.Sprintf("0195500a-1111-7000-8000-%012d", i), CaseNo: fmt.Sprintf("JF-370502-20260301-%04d", i),
				Title: "新的纠纷已分派给您", CreatedAt: time.Date(2026, 3, 1, 8, i, 0, 0, time.UTC)}
		}
		var ns []notify.Notification
		for i := 1; i <= 5; i++ {
			n := mk(i)
			n.ID = uuid.Must(uuid.NewV7()).String() // in order: UUIDv7 is monotonic in a process
			ns = append(ns, n)
		}

		s1, resp := openStream(t, srv, gw, "")
		if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("headers %v", resp.Header)
		}
		validateAgainstSpec(t, httptest.NewRequest("GET", "/api/v1/notifications/stream", nil), resp.StatusCode, resp.Header, []byte("retry: 3000\n\n"))
		waitStreams(t, e, gwID, 1)
		e.notify(t, ns[0], notify.Notification{UserID: medID, Kind: notify.KindWarning, Title: "别人的预警"})
		e.notify(t, ns[1])
		expectEvent(t, s1.next(t, 5*time.Second), ns[0])
		expectEvent(t, s1.next(t, 5*time.Second), ns[1])
		s1.close()
		waitStreams(t, e, gwID, 0) // the server noticed the client leave

		e.notify(t, ns[2], ns[3])
		s2, _ := openStream(t, srv, gw, ns[1].ID)
		expectEvent(t, s2.next(t, 5*time.Second), ns[2])
		expectEvent(t, s2.next(t, 5*time.Second), ns[3])
		// Nothing more, not even after a database poll has passed.
		s2.quiet(t, notify.PollInterval+500*time.Millisecond)

		// A notification written by another instance arrives by polling.
		other := reopen(t, e, e.app.Config.JWTKeys)
		if err := other.app.Notify.Notify(context.Background(), ns[4]); err != nil {
			t.Fatal(err)
		}
		expectEvent(t, s2.next(t, 3*notify.PollInterval), ns[4])
		s2.quiet(t, notify.PollInterval+500*time.Millisecond)

		// At most five streams per user on an instance.
		for i := 0; i < notify.MaxStreamsPerUser-1; i++ {
			openStream(t, srv, gw, "")
		}
		waitStreams(t, e, gwID, notify.MaxStreamsPerUser)
		_, refused := openStream(t, srv, gw, "")
		if refused.StatusCode != 429 || refused.Header.Get("Retry-After") == "" {
			t.Fatalf("sixth stream: %d %v %s", refused.StatusCode, refused.Header, refused.Header.Get("X-Test-Body"))
		}
		// A Last-Event-ID that is no notification id is 400.
		if _, bad := openStream(t, srv, e.login(t, "demo-mediator"), "42"); bad.StatusCode != 400 {
			t.Fatalf("bad Last-Event-ID: %d", bad.StatusCode)
		}

		// Shutting down ends the open streams and refuses new ones.
		e.app.Notify.EndStreams()
		select {
		case <-s2.ended:
		case <-time.After(5 * time.Second):
			t.Fatal("the stream outlived EndStreams")
		}
		if _, gone := openStream(t, srv, e.login(t, "demo-mediator"), ""); gone.StatusCode != 503 {
			t.Fatalf("a stream after EndStreams: %d", gone.StatusCode)
		}
	})
}

// newServer serves e's handler on a loopback port, as a real server would:
// streams need a connection that can close.
func newServer(t *testing.T, e *env) string {
	t.Helper()
	srv := httptest.NewServer(e.app.Handler)
	t.Cleanup(func() {
		e.app.Notify.EndStreams()
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv.URL
}

func TestNotificationWebhook(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		const secret = "webhook-test-secret-0123456789"
		type hit struct {
			header http.Header
			body   []byte
		}
		hits := make(chan hit, 10)
		var calls atomic.Int32
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			hits <- hit{r.Header.Clone(), body}
			if calls.Add(1) == 1 {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}))
		t.Cleanup(hook.Close)
		if !strings.HasPrefix(hook.URL, "http://127.0.0.1:") {
			t.Fatalf("hook at %s", hook.URL)
		}
		// An instance with the webhook configured, on e's database and clock.
		cfg := *e.app.Config
		cfg.WebhookURL, cfg.WebhookSecret = hook.URL+"/pingan?tenant=7", []byte(secret)
		a, err := app.Open(context.Background(), &cfg, slog.New(slog.DiscardHandler), e.clock.now)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })

		n := notify.Notification{ID: uuid.Must(uuid.NewV7()).String(), UserID: e.userID(t, "demo-mediator"), Kind: notify.KindEscalated,
			CaseKind: notify.CaseDispute, CaseID: "0195500a-1111-7000-8000-000000000001", CaseNo: "JF-370502-20260301-0001",
			Title: "纠纷已上报至街道", DedupeKey: "escalated:1", CreatedAt: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
		if err := a.Notify.Notify(context.Background(), n); err != nil {
			t.Fatal(err)
		}
		// Written again: deduplicated, so no second delivery either.
		if err := a.Notify.Notify(context.Background(), n); err != nil {
			t.Fatal(err)
		}
		if got := countRows(t, e, "webhook_deliveries"); got != 1 {
			t.Fatalf("deliveries %d, want 1", got)
		}
		wantBody := map[string]any{"event": "notification", "notification": notificationJSON(n)}
		check := func(h hit) {
			t.Helper()
			ts := h.header.Get("X-Pingan-Timestamp")
			sec, err := strconv.ParseInt(ts, 10, 64)
			if err != nil || time.Unix(sec, 0).Sub(e.clock.now()).Abs() > time.Minute {
				t.Fatalf("X-Pingan-Timestamp %q", ts)
			}
			m := hmac.New(sha256.New, []byte(secret))
			m.Write([]byte(ts + "." + string(h.body)))
			if want := "sha256=" + hex.EncodeToString(m.Sum(nil)); h.header.Get("X-Pingan-Signature") != want {
				t.Fatalf("signature %q, want %q", h.header.Get("X-Pingan-Signature"), want)
			}
			if h.header.Get("Content-Type") != "application/json" || h.header.Get("X-Pingan-Delivery") == "" {
				t.Fatalf("headers %v", h.header)
			}
			var got any
			if err := json.Unmarshal(h.body, &got); err != nil {
				t.Fatal(err)
			}
			sameJSON(t, "webhook body", got, wantBody)
		}
		next := func() hit {
			t.Helper()
			select {
			case h := <-hits:
				return h
			case <-time.After(10 * time.Second):
				t.Fatal("no webhook request")
			}
			return hit{}
		}
		type row struct {
			status, lastError      string
			attempts, lastStatus   int
			created, nextAttemptAt time.Time
		}
		// waitRow waits until the delivery has made attempts.
		waitRow := func(attempts int) row {
			t.Helper()
			deadline := time.Now().Add(10 * time.Second)
			for {
				var r row
				if err := e.app.DB.SQL().QueryRow("SELECT status, attempts, last_status, last_error, created_at, next_attempt_at FROM webhook_deliveries").
					Scan(&r.status, &r.attempts, &r.lastStatus, &r.lastError, &r.created, &r.nextAttemptAt); err != nil {
					t.Fatal(err)
				}
				if r.attempts == attempts {
					return r
				}
				if time.Now().After(deadline) {
					t.Fatalf("delivery %+v, want %d attempts", r, attempts)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}

		first := next()
		check(first)
		r := waitRow(1)
		if wait := r.nextAttemptAt.Sub(r.created); r.status != "pending" || r.lastStatus != 500 || r.lastError != "HTTP 500" ||
			wait < 10*time.Second || wait > 11*time.Second {
			t.Fatalf("after the failed attempt: %+v (retry in %v)", r, wait)
		}
		select {
		case h := <-hits:
			t.Fatalf("retried before the back-off passed: %s", h.body)
		case <-time.After(300 * time.Millisecond):
		}

		// Ten seconds later (on the app's clock) the worker's poll retries.
		e.clock.advance(10 * time.Second)
		second := next()
		check(second)
		if second.header.Get("X-Pingan-Delivery") != first.header.Get("X-Pingan-Delivery") {
			t.Fatal("the retry is another delivery")
		}
		if r := waitRow(2); r.status != "delivered" || r.lastStatus != 204 || r.lastError != "" {
			t.Fatalf("after the second attempt: %+v", r)
		}
		select {
		case h := <-hits:
			t.Fatalf("a third request: %s", h.body)
		case <-time.After(300 * time.Millisecond):
		}
		if got := calls.Load(); got != 2 {
			t.Fatalf("%d webhook requests, want 2", got)
		}
	})
}

// TestSyncChangesNotifications: the offline catch-up carries the caller's
// notifications written since the cursor, beside the changed cases.
func TestSyncChangesNotifications(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		gw := e.login(t, "demo-gridworker")
		ns := inbox(e.userID(t, "demo-gridworker"))
		e.notify(t, ns...)
		e.notify(t, notify.Notification{UserID: e.userID(t, "demo-mediator"), Kind: notify.KindWarning, Title: "别人的预警"})
		changes := func(query string) map[string]any {
			t.Helper()
			r := e.do(t, req{method: "GET", path: "/api/v1/sync/changes" + query, token: gw})
			expect(t, r, 200, "")
			return r.json(t)
		}
		ids := func(m map[string]any, key string) []string {
			var out []string
			for _, it := range m[key].([]any) {
				out = append(out, it.(map[string]any)["id"].(string))
			}
			return out
		}
		first := changes("?limit=2")
		sameJSON(t, "first notifications", first["notifications"], []any{notificationJSON(ns[0]), notificationJSON(ns[1])})
		if len(first["incidents"].([]any)) != 0 || first["has_more"] != true {
			t.Fatalf("first: %v", first)
		}
		since := first["next_cursor"].(string)

		inc := e.report(t, "demo-gridworker", nil)
		second := changes("?limit=2&since=" + url.QueryEscape(since))
		if got := ids(second, "notifications"); len(got) != 1 || got[0] != ns[2].ID || second["has_more"] != false {
			t.Fatalf("second: %v", second)
		}
		if got := ids(second, "incidents"); len(got) != 1 || got[0] != inc["id"] {
			t.Fatalf("second incidents: %v", second)
		}
		since = second["next_cursor"].(string)
		// The report of the last seconds comes once more (it could have
		// committed late), then nothing is new.
		e.clock.advance(notify.Lookback + time.Second)
		again := changes("?since=" + url.QueryEscape(since))
		if got := ids(again, "incidents"); len(got) != 1 || got[0] != inc["id"] || len(again["notifications"].([]any)) != 0 {
			t.Fatalf("again: %v", again)
		}
		since = again["next_cursor"].(string)
		third := changes("?since=" + url.QueryEscape(since))
		if len(third["notifications"].([]any)) != 0 || len(third["incidents"].([]any)) != 0 || third["next_cursor"] != since {
			t.Fatalf("nothing new: %v", third)
		}
		later := notify.Notification{ID: uuid.Must(uuid.NewV7()).String(), UserID: ns[0].UserID, Kind: notify.KindDueSoon,
			CaseKind: notify.CaseDispute, CaseID: ns[0].CaseID, CaseNo: ns[0].CaseNo, Title: "纠纷即将超期", CreatedAt: ns[0].CreatedAt}
		e.notify(t, later)
		fourth := changes("?since=" + url.QueryEscape(since))
		if got := ids(fourth, "notifications"); len(got) != 1 || got[0] != later.ID || len(fourth["incidents"].([]any)) != 0 {
			t.Fatalf("fourth: %v", fourth)
		}
	})
}

// TestNotificationStreamOutlivesServerTimeouts: a stream outlasts the
// server's ReadTimeout and WriteTimeout (which would otherwise cancel the
// request and fail the next write) because it clears the one and pushes
// the other on before every write.
func TestNotificationStreamOutlivesServerTimeouts(t *testing.T) {
	e := newEnv(t, "sqlite")
	srv := httptest.NewUnstartedServer(e.app.Handler)
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = time.Second, time.Second
	srv.Start()
	t.Cleanup(func() {
		e.app.Notify.EndStreams()
		srv.CloseClientConnections()
		srv.Close()
	})
	gwID := e.userID(t, "demo-gridworker")
	s, _ := openStream(t, srv.URL, e.login(t, "demo-gridworker"), "")
	waitStreams(t, e, gwID, 1)
	time.Sleep(1500 * time.Millisecond)
	n := notify.Notification{ID: uuid.Must(uuid.NewV7()).String(), UserID: gwID, Kind: notify.KindOverdue, Title: "事件已超期",
		CreatedAt: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
	e.notify(t, n)
	expectEvent(t, s.next(t, 5*time.Second), n)
}
