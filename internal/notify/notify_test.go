package notify

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"pingan/internal/access"
	"pingan/internal/audit"
)

// noOutbox and noAudit stand for what these tests never reach (the webhook
// is off, nothing is audited): any call panics.
var (
	noOutbox = struct{ Outbox }{}
	noAudit  = struct{ audit.Store }{}
)

// memStore is an in-memory Store and Transactor: InTx commits at once and
// then runs the after-commit functions.
type memStore struct {
	mu    sync.Mutex
	rows  []Notification
	after []func()
	inTx  bool
}

func (m *memStore) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	m.inTx = true
	err := fn(ctx)
	m.inTx = false
	after := m.after
	m.after = nil
	if err == nil {
		for _, f := range after {
			f()
		}
	}
	return err
}

func (m *memStore) AfterCommit(_ context.Context, fn func()) {
	if !m.inTx {
		fn()
		return
	}
	m.after = append(m.after, fn)
}

func (m *memStore) InsertNotifications(_ context.Context, ns []Notification) ([]bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	inserted := make([]bool, len(ns))
next:
	for i, n := range ns {
		for _, r := range m.rows {
			if r.ID == n.ID || (n.DedupeKey != "" && r.UserID == n.UserID && r.DedupeKey == n.DedupeKey) {
				continue next
			}
		}
		m.rows = append(m.rows, n)
		inserted[i] = true
	}
	return inserted, nil
}

func (m *memStore) FindNotifications(_ context.Context, f Filter) ([]Notification, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Notification
	for _, r := range m.rows {
		if r.UserID == f.UserID && (!f.Ascending || r.ID > f.AfterID) && (f.Ascending || f.BeforeID == "" || r.ID < f.BeforeID) &&
			(!f.UnreadOnly || r.ReadAt == nil) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return (out[i].ID < out[j].ID) == f.Ascending })
	return out[:min(len(out), f.Limit)], nil
}

func (m *memStore) FindNotification(context.Context, string, string) (Notification, error) {
	panic("not used")
}

func (m *memStore) MarkNotificationRead(context.Context, string, string, time.Time) (bool, error) {
	panic("not used")
}

func (m *memStore) LatestNotificationID(_ context.Context, userID string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	latest := ""
	for _, r := range m.rows {
		if r.UserID == userID {
			latest = max(latest, r.ID)
		}
	}
	return latest, nil
}

var _ Store = (*memStore)(nil)

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func TestCheck(t *testing.T) {
	ok := Notification{UserID: "u", Kind: KindOverdue, CaseKind: CaseDispute, Title: "纠纷已超期"}
	cases := []struct {
		name string
		edit func(n *Notification)
		want string // "" for accepted
	}{
		{"fine", func(*Notification) {}, ""},
		{"no case", func(n *Notification) { n.CaseKind = "" }, ""},
		{"longest title", func(n *Notification) { n.Title = strings.Repeat("长", MaxTitle) }, ""},
		{"no user", func(n *Notification) { n.UserID = "" }, "no user"},
		{"unknown kind", func(n *Notification) { n.Kind = "gossip" }, "kind"},
		{"unknown case kind", func(n *Notification) { n.CaseKind = "parcel" }, "case kind"},
		{"blank title", func(n *Notification) { n.Title = "  " }, "title"},
		{"long title", func(n *Notification) { n.Title = strings.Repeat("长", MaxTitle+1) }, "title"},
		{"bad UTF-8", func(n *Notification) { n.Title = "\xff" }, "title"},
		{"long dedupe key", func(n *Notification) { n.DedupeKey = strings.Repeat("k", MaxDedupeKey+1) }, "dedupe"},
		{"given id", func(n *Notification) { n.ID = newID() }, ""},
		{"bad id", func(n *Notification) { n.ID = "n-1" }, "id"},
		{"long case number", func(n *Notification) { n.CaseNo = strings.Repeat("9", 41) }, "case number"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := ok
			c.edit(&n)
			err := check(n)
			if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
				t.Fatalf("check: %v, want %q", err, c.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{0: 10 * time.Second, 1: 10 * time.Second, 2: 20 * time.Second, 3: 40 * time.Second,
		6: 320 * time.Second, 7: 10 * time.Minute, 8: 10 * time.Minute, 60: 10 * time.Minute} {
		if got := Backoff(n); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestSignature(t *testing.T) {
	// printf '1767225600.{"a":1}' | openssl dgst -sha256 -hmac secret
	got := Signature([]byte("secret"), "1767225600", []byte(`{"a":1}`))
	if want := "sha256=96a067a1c95eb143fc00b9097bcfcbcd5456adda508c443ff219748e764dbed7"; got != want {
		t.Fatalf("signature %q", got)
	}
	if Signature([]byte("secret"), "1767225601", []byte(`{"a":1}`)) == got || Signature([]byte("other"), "1767225600", []byte(`{"a":1}`)) == got {
		t.Fatal("the signature does not cover the timestamp and the secret")
	}
}

func TestIDs(t *testing.T) {
	id := newID()
	if !ValidID(id) || ValidID(strings.ToUpper(id)) || ValidID("42") || ValidID("") || ValidID("{"+id+"}") {
		t.Fatal("ValidID")
	}
	now := time.Now()
	if lo, hi := idAt(now.Add(-time.Second)), idAt(now.Add(time.Second)); !(lo < id && id < hi) || !ValidID(lo) {
		t.Fatalf("idAt: %s < %s < %s", lo, id, hi)
	}
}

func TestNotifyFillsAndDedupes(t *testing.T) {
	m := &memStore{}
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	s := NewService(m, noOutbox, m, noAudit, Webhook{}, func() time.Time { return now })
	n := Notification{UserID: "u1", Kind: KindWarning, Title: "预警", DedupeKey: "w:1"}
	if err := s.Notify(context.Background(), n, n, Notification{UserID: "u2", Kind: KindWarning, Title: "预警", DedupeKey: "w:1"}); err != nil {
		t.Fatal(err)
	}
	if len(m.rows) != 2 || !ValidID(m.rows[0].ID) || m.rows[0].ID == m.rows[1].ID || !m.rows[0].CreatedAt.Equal(now) {
		t.Fatalf("rows %+v", m.rows)
	}
	if err := s.Notify(context.Background(), n, Notification{UserID: "u1", Kind: "nope", Title: "x"}); err == nil || len(m.rows) != 2 {
		t.Fatalf("a bad notification: %v, rows %d", err, len(m.rows))
	}
}

// TestStreamCatchUpAndLateCommits: a stream pages through a long backlog in
// order, then sends a notification whose id is older than one already sent
// (its transaction committed late) exactly once.
func TestStreamCatchUpAndLateCommits(t *testing.T) {
	m := &memStore{}
	s := NewService(m, noOutbox, m, noAudit, Webhook{}, time.Now)
	p := access.Principal{UserID: "u1"}
	ctx := context.Background()
	seen := newID()
	var backlog []string
	for i := 0; i < 2*pollBatch+50; i++ {
		n := Notification{ID: newID(), UserID: "u1", Kind: KindWarning, Title: fmt.Sprint("预警 ", i)}
		backlog = append(backlog, n.ID)
		m.rows = append(m.rows, n)
	}
	sub, err := s.Subscribe(ctx, p, seen)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	var got []string
	for len(got) < len(backlog) {
		ns, err := sub.Next(ctx, time.Now().Add(time.Second))
		if err != nil || len(ns) == 0 || len(ns) > pollBatch {
			t.Fatalf("catching up: %d notifications, %v", len(ns), err)
		}
		for _, n := range ns {
			got = append(got, n.ID)
		}
	}
	if strings.Join(got, ",") != strings.Join(backlog, ",") {
		t.Fatal("the backlog came out of order or incomplete")
	}

	late := newID() // made before early, committed after it
	early := newID()
	if err := s.Notify(ctx, Notification{ID: early, UserID: "u1", Kind: KindWarning, Title: "先提交"}); err != nil {
		t.Fatal(err)
	}
	if ns, err := sub.Next(ctx, time.Now().Add(time.Second)); err != nil || len(ns) != 1 || ns[0].ID != early {
		t.Fatalf("early: %+v %v", ns, err)
	}
	if err := s.Notify(ctx, Notification{ID: late, UserID: "u1", Kind: KindWarning, Title: "后提交"}); err != nil {
		t.Fatal(err)
	}
	if ns, err := sub.Next(ctx, time.Now().Add(time.Second)); err != nil || len(ns) != 1 || ns[0].ID != late {
		t.Fatalf("late: %+v %v", ns, err)
	}
	// Nothing twice: the next call waits for its deadline (a heartbeat).
	if ns, err := sub.Next(ctx, time.Now().Add(50*time.Millisecond)); err != nil || len(ns) != 0 {
		t.Fatalf("after everything: %+v %v", ns, err)
	}
}

// TestStreamWokenByNotify: a notification written on this instance reaches
// a waiting stream at once, not at the next poll.
func TestStreamWokenByNotify(t *testing.T) {
	m := &memStore{}
	s := NewService(m, noOutbox, m, noAudit, Webhook{}, time.Now)
	ctx := context.Background()
	sub, err := s.Subscribe(ctx, access.Principal{UserID: "u1"}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	type result struct {
		ns   []Notification
		err  error
		took time.Duration
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		ns, err := sub.Next(ctx, time.Now().Add(5*time.Second))
		done <- result{ns, err, time.Since(start)}
	}()
	time.Sleep(50 * time.Millisecond) // Next has polled once and waits
	if err := s.Notify(ctx, Notification{UserID: "u1", Kind: KindAssigned, Title: "新的纠纷已分派给您"}); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || len(r.ns) != 1 || r.took >= PollInterval {
		t.Fatalf("woken: %d notifications, %v, after %v", len(r.ns), r.err, r.took)
	}
}

func TestStreamLimitAndEnd(t *testing.T) {
	m := &memStore{}
	s := NewService(m, noOutbox, m, noAudit, Webhook{}, time.Now)
	ctx := context.Background()
	p := access.Principal{UserID: "u1"}
	var subs []*Subscription
	for i := 0; i < MaxStreamsPerUser; i++ {
		sub, err := s.Subscribe(ctx, p, "")
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, sub)
	}
	if _, err := s.Subscribe(ctx, p, ""); err == nil || !strings.Contains(err.Error(), "rate limited") {
		t.Fatalf("one too many: %v", err)
	}
	if _, err := s.Subscribe(ctx, access.Principal{UserID: "u2"}, ""); err != nil {
		t.Fatalf("another user: %v", err)
	}
	subs[0].Close()
	subs[0].Close()
	if s.OpenStreams("u1") != MaxStreamsPerUser-1 {
		t.Fatalf("open streams %d", s.OpenStreams("u1"))
	}
	if _, err := s.Subscribe(ctx, p, "not-an-id"); err == nil || !strings.Contains(err.Error(), "Last-Event-ID") {
		t.Fatalf("bad Last-Event-ID: %v", err)
	}
	s.Close()
	if _, err := subs[1].Next(ctx, time.Now().Add(5*time.Second)); err != ErrStreamsEnded {
		t.Fatalf("after Close: %v", err)
	}
	if _, err := s.Subscribe(ctx, access.Principal{UserID: "u3"}, ""); err != ErrStreamsEnded {
		t.Fatalf("Subscribe after Close: %v", err)
	}
}

// TestStreamFromEmptyInbox: with nothing before it, a stream sends what
// arrives oldest first.
func TestStreamFromEmptyInbox(t *testing.T) {
	m := &memStore{}
	s := NewService(m, noOutbox, m, noAudit, Webhook{}, time.Now)
	ctx := context.Background()
	sub, err := s.Subscribe(ctx, access.Principal{UserID: "u1"}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	a, b, c := newID(), newID(), newID()
	if err := s.Notify(ctx, Notification{ID: c, UserID: "u1", Kind: KindWarning, Title: "3"},
		Notification{ID: a, UserID: "u1", Kind: KindWarning, Title: "1"}, Notification{ID: b, UserID: "u1", Kind: KindWarning, Title: "2"}); err != nil {
		t.Fatal(err)
	}
	ns, err := sub.Next(ctx, time.Now().Add(time.Second))
	if err != nil || len(ns) != 3 || ns[0].ID != a || ns[1].ID != b || ns[2].ID != c {
		t.Fatalf("got %+v %v", ns, err)
	}
}
