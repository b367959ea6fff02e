package notify_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"pingan/internal/notify"
	"pingan/internal/pii"
	"pingan/internal/store"
	"pingan/internal/testenv"
)

// eachDB runs fn against a fresh SQLite database and a fresh MariaDB schema.
func eachDB(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, backend := range []string{"sqlite", "mysql"} {
		t.Run(backend, func(t *testing.T) {
			url := "sqlite://" + t.TempDir() + "/t.db"
			if backend == "mysql" {
				url = testenv.MySQLDSN(t)
			}
			sealer, err := pii.NewSealer(bytes.Repeat([]byte{1}, 32))
			if err != nil {
				t.Fatal(err)
			}
			db, err := store.Open(context.Background(), url, sealer)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if err := db.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			fn(t, db)
		})
	}
}

// quick is a webhook that retries at once, for tests.
func quick(url string, attempts int) notify.Webhook {
	return notify.Webhook{URL: url, Secret: []byte("0123456789abcdef"), MaxAttempts: attempts, Poll: 20 * time.Millisecond,
		Timeout: 2 * time.Second, Backoff: func(int) time.Duration { return time.Millisecond }}
}

func newService(db *store.DB, hook notify.Webhook) *notify.Service {
	s := notify.NewService(db, db, db, db, hook, func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) })
	s.Start()
	return s
}

// waitDelivery waits until the only delivery is no longer pending.
func waitDelivery(t *testing.T, db *store.DB) (status string, attempts, lastStatus int, lastError string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := db.SQL().QueryRow("SELECT status, attempts, last_status, last_error FROM webhook_deliveries").
			Scan(&status, &attempts, &lastStatus, &lastError); err != nil {
			t.Fatal(err)
		}
		if status != notify.DeliveryPending {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still pending after %d attempts", attempts)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestWebhookGivesUp: a receiver that always fails, or is not there, gets
// MaxAttempts attempts and the delivery is marked failed.
func TestWebhookGivesUp(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		var mu sync.Mutex
		calls := 0
		failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			calls++
			mu.Unlock()
			w.WriteHeader(http.StatusServiceUnavailable)
		}))
		defer failing.Close()
		gone := httptest.NewServer(http.NotFoundHandler())
		gone.Close() // nobody listens there any more

		for _, c := range []struct {
			name, url, lastError string
			lastStatus           int
		}{
			{"503", failing.URL, "HTTP 503", 503},
			{"refused", gone.URL, "connection refused", 0},
		} {
			t.Run(c.name, func(t *testing.T) {
				if _, err := db.SQL().Exec("DELETE FROM webhook_deliveries"); err != nil {
					t.Fatal(err)
				}
				s := newService(db, quick(c.url, 3))
				defer s.Close()
				if err := s.Notify(context.Background(), notify.Notification{UserID: "u1", Kind: notify.KindWarning, Title: "预警"}); err != nil {
					t.Fatal(err)
				}
				status, attempts, lastStatus, lastError := waitDelivery(t, db)
				if status != notify.DeliveryFailed || attempts != 3 || lastStatus != c.lastStatus || !strings.Contains(lastError, c.lastError) ||
					strings.Contains(lastError, c.url) {
					t.Fatalf("delivery %s after %d attempts: %d %q", status, attempts, lastStatus, lastError)
				}
			})
		}
		mu.Lock()
		defer mu.Unlock()
		if calls != 3 {
			t.Fatalf("the failing receiver got %d requests, want 3", calls)
		}
	})
}

// TestWebhookWorkersShare: two workers (two instances) on one database
// deliver every notification exactly once between them.
func TestWebhookWorkersShare(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		var mu sync.Mutex
		got := map[string]int{}
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got[r.Header.Get("X-Pingan-Delivery")]++
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
			w.WriteHeader(http.StatusOK)
		}))
		defer receiver.Close()
		a, b := newService(db, quick(receiver.URL, 3)), newService(db, quick(receiver.URL, 3))
		defer a.Close()
		defer b.Close()
		const n = 24
		for i := 0; i < n; i++ {
			s := a
			if i%2 == 1 {
				s = b
			}
			if err := s.Notify(context.Background(), notify.Notification{UserID: fmt.Sprint("u", i), Kind: notify.KindWarning, Title: "预警"}); err != nil {
				t.Fatal(err)
			}
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			var left int
			if err := db.SQL().QueryRow("SELECT COUNT(*) FROM webhook_deliveries WHERE status <> ?", notify.DeliveryDelivered).Scan(&left); err != nil {
				t.Fatal(err)
			}
			if left == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d deliveries not delivered", left)
			}
			time.Sleep(20 * time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(got) != n {
			t.Fatalf("%d deliveries reached the receiver, want %d", len(got), n)
		}
		for id, c := range got {
			if c != 1 {
				t.Fatalf("delivery %s sent %d times", id, c)
			}
		}
	})
}

// TestWebhookLeaseLapses: a delivery claimed by a worker that died is
// taken again once its lease has passed, and the dead worker can no
// longer record an outcome for it.
func TestWebhookLeaseLapses(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		d := notify.Delivery{ID: "0195500a-2222-7000-8000-000000000001", Notification: notify.Notification{ID: "n1"},
			Status: notify.DeliveryPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
		if err := db.InsertDeliveries(ctx, []notify.Delivery{d}); err != nil {
			t.Fatal(err)
		}
		first, err := db.ClaimDeliveries(ctx, "dead", now, now.Add(30*time.Second), 4)
		if err != nil || len(first) != 1 || first[0].Owner != "dead" {
			t.Fatalf("first claim: %+v %v", first, err)
		}
		if again, err := db.ClaimDeliveries(ctx, "other", now.Add(29*time.Second), now.Add(60*time.Second), 4); err != nil || len(again) != 0 {
			t.Fatalf("claimed while leased: %+v %v", again, err)
		}
		taken, err := db.ClaimDeliveries(ctx, "other", now.Add(31*time.Second), now.Add(60*time.Second), 4)
		if err != nil || len(taken) != 1 || taken[0].Owner != "other" {
			t.Fatalf("after the lease: %+v %v", taken, err)
		}
		late := first[0]
		late.Status, late.Attempts = notify.DeliveryDelivered, 1
		if err := db.RecordAttempt(ctx, late); err == nil {
			t.Fatal("the dead worker recorded an outcome it no longer owns")
		}
		mine := taken[0]
		mine.Status, mine.Attempts, mine.LastStatus, mine.UpdatedAt = notify.DeliveryDelivered, 1, 200, now.Add(32*time.Second)
		if err := db.RecordAttempt(ctx, mine); err != nil {
			t.Fatal(err)
		}
		got, err := db.FindDelivery(ctx, d.ID)
		if err != nil || got.Status != notify.DeliveryDelivered || got.Attempts != 1 || got.Owner != "other" || got.LastStatus != 200 {
			t.Fatalf("stored: %+v %v", got, err)
		}
		// Finished deliveries are purged after their retention.
		if n, err := db.PurgeDeliveries(ctx, now.Add(31*time.Second)); err != nil || n != 0 {
			t.Fatalf("purged a recent delivery: %d %v", n, err)
		}
		if n, err := db.PurgeDeliveries(ctx, now.Add(33*time.Second)); err != nil || n != 1 {
			t.Fatalf("purge: %d %v", n, err)
		}
	})
}

// TestNotifyDedupeInBatches: many notifications in one call, more than one
// statement holds, some repeating a key already written or written earlier
// in the call: exactly the new ones are written, each with one delivery.
func TestNotifyDedupeInBatches(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		// A webhook nobody answers, with a worker that is never started:
		// deliveries are queued and stay pending.
		s := notify.NewService(db, db, db, db, quick("http://127.0.0.1:1/", 3), time.Now)
		defer s.Close()
		ctx := context.Background()
		n := func(user, key string) notify.Notification {
			return notify.Notification{UserID: user, Kind: notify.KindOverdue, Title: "纠纷已超期", DedupeKey: key}
		}
		var first []notify.Notification
		for i := 0; i < 10; i++ {
			first = append(first, n("u1", fmt.Sprint("k", i)))
		}
		if err := s.Notify(ctx, first...); err != nil {
			t.Fatal(err)
		}
		var second []notify.Notification
		for i := 0; i < 40; i++ {
			// k0…k19 for u1 (k0…k9 exist, k10…k19 come twice), k0…k9 for u2.
			switch {
			case i < 20:
				second = append(second, n("u1", fmt.Sprint("k", i)))
			case i < 30:
				second = append(second, n("u1", fmt.Sprint("k", i-10)))
			default:
				second = append(second, n("u2", fmt.Sprint("k", i-30)))
			}
		}
		second = append(second, n("u2", ""), n("u2", ""))
		if err := s.Notify(ctx, second...); err != nil {
			t.Fatal(err)
		}
		count := func(q string) int {
			var c int
			if err := db.SQL().QueryRow(q).Scan(&c); err != nil {
				t.Fatal(err)
			}
			return c
		}
		if u1, u2 := count("SELECT COUNT(*) FROM notifications WHERE user_id = 'u1'"), count("SELECT COUNT(*) FROM notifications WHERE user_id = 'u2'"); u1 != 20 || u2 != 12 {
			t.Fatalf("rows: u1 %d (want 20), u2 %d (want 12)", u1, u2)
		}
		if got := count("SELECT COUNT(*) FROM webhook_deliveries d JOIN notifications n ON n.id = d.notification_id"); got != 32 ||
			count("SELECT COUNT(*) FROM webhook_deliveries") != 32 {
			t.Fatalf("deliveries %d, want one per notification (32)", got)
		}
	})
}
