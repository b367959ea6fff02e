package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// DeliveryRetention is how long delivered and failed deliveries are kept
// (for operators to look into) before the janitor removes them.
const DeliveryRetention = 7 * 24 * time.Hour

// Delivery is one notification on its way to the webhook (the outbox row).
type Delivery struct {
	ID string
	// Notification is what is delivered. The Outbox keeps it as Body, in
	// the webhook's JSON; a claimed delivery carries only its ID.
	Notification Notification
	// Body is the request body, as the Outbox wrote it: sent, and signed,
	// as it is.
	Body     []byte
	Status   string // DeliveryPending, DeliveryDelivered or DeliveryFailed
	Attempts int
	// NextAttemptAt is when a pending delivery is due; while an attempt
	// runs it is the end of the attempt's lease.
	NextAttemptAt time.Time
	// Owner is the worker holding the lease.
	Owner string
	// LastStatus is the HTTP status of the last attempt (0: no answer);
	// LastError says what went wrong with it.
	LastStatus int
	LastError  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Outbox persists deliveries. Implemented in internal/store.
type Outbox interface {
	// InsertDeliveries queues ds, in the context's transaction, each with
	// its notification written as the webhook's body: the notification as
	// the API shows it, in {"event": "notification", "notification": …}.
	InsertDeliveries(ctx context.Context, ds []Delivery) error
	// ClaimDeliveries leases up to limit pending deliveries due at now to
	// owner until until, each by a conditional UPDATE, so that of several
	// workers (instances) only one gets each delivery. An attempt whose
	// worker died is retried once its lease has passed.
	ClaimDeliveries(ctx context.Context, owner string, now, until time.Time, limit int) ([]Delivery, error)
	// RecordAttempt stores d's Status, Attempts, NextAttemptAt, LastStatus,
	// LastError and UpdatedAt if d.Owner still holds it (and it is still
	// pending). Returns errs.ErrConflict otherwise.
	RecordAttempt(ctx context.Context, d Delivery) error
}

// Webhook configures the outbound webhook (SPEC §7). A zero URL turns it
// off. The zero values of the other fields are the defaults.
type Webhook struct {
	URL    string
	Secret []byte
	// Client sends the requests (default: no redirects followed).
	Client *http.Client
	// Timeout bounds one attempt (default 10 s).
	Timeout time.Duration
	// Backoff is the wait after the n-th failed attempt (n from 1; default
	// 10 s·2^(n−1), at most 10 minutes).
	Backoff func(n int) time.Duration
	// MaxAttempts is how many attempts a delivery gets before it is marked
	// failed (default 8).
	MaxAttempts int
	// Poll is how often the worker looks for due deliveries, besides being
	// woken by Notify on this instance (default 2 s).
	Poll time.Duration
	// Logger receives failed attempts (default slog.Default()); neither
	// the URL nor the secret is ever logged.
	Logger *slog.Logger
}

func (h Webhook) withDefaults() Webhook {
	if h.Client == nil {
		h.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if h.Timeout <= 0 {
		h.Timeout = 10 * time.Second
	}
	if h.Backoff == nil {
		h.Backoff = Backoff
	}
	if h.MaxAttempts <= 0 {
		h.MaxAttempts = 8
	}
	if h.Poll <= 0 {
		h.Poll = 2 * time.Second
	}
	if h.Logger == nil {
		h.Logger = slog.Default()
	}
	return h
}

// Backoff is the default wait after the n-th failed attempt: 10 s, 20 s,
// 40 s … at most 10 minutes.
func Backoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	if n > 7 {
		return 10 * time.Minute
	}
	return min(10*time.Second<<(n-1), 10*time.Minute)
}

// Signature is the X-Pingan-Signature of body sent at timestamp (Unix
// seconds, as in X-Pingan-Timestamp): "sha256=" and the hex HMAC-SHA256 of
// timestamp + "." + body under secret. A receiver computes it again, compares
// in constant time and refuses old timestamps.
func Signature(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func newDelivery(n Notification, now time.Time) Delivery {
	return Delivery{ID: uuid.Must(uuid.NewV7()).String(), Notification: n, Status: DeliveryPending,
		NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
}

// worker delivers due deliveries: woken by Notify on this instance, and
// every Poll for deliveries queued elsewhere or due for a retry.
type worker struct {
	s      *Service
	wakeup chan struct{}
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// batch is how many deliveries one worker attempts at once.
const batch = 4

func newWorker(s *Service) *worker {
	ctx, cancel := context.WithCancel(context.Background())
	return &worker{s: s, wakeup: make(chan struct{}, 1), ctx: ctx, cancel: cancel, done: make(chan struct{})}
}

func (w *worker) start() { w.once.Do(func() { go w.run() }) }

func (w *worker) stop() {
	w.once.Do(func() { close(w.done) }) // never started: nothing to wait for
	w.cancel()
	<-w.done
}

func (w *worker) poke() {
	select {
	case w.wakeup <- struct{}{}:
	default:
	}
}

func (w *worker) run() {
	defer close(w.done)
	t := time.NewTicker(w.s.hook.Poll)
	defer t.Stop()
	for {
		w.deliverDue()
		select {
		case <-w.ctx.Done():
			return
		case <-t.C:
		case <-w.wakeup:
		}
	}
}

// deliverDue attempts due deliveries, a batch at a time, until none is due.
func (w *worker) deliverDue() {
	hook := w.s.hook
	for w.ctx.Err() == nil {
		now := w.s.now()
		// The lease outlasts the attempt, so another worker cannot take
		// the delivery while it is in flight.
		owner := uuid.Must(uuid.NewV7()).String()
		ds, err := w.s.outbox.ClaimDeliveries(w.ctx, owner, now, now.Add(hook.Timeout+20*time.Second), batch)
		if err != nil {
			if w.ctx.Err() == nil {
				hook.Logger.Warn("webhook: claiming deliveries", slog.String("error", err.Error()))
			}
			return
		}
		if len(ds) == 0 {
			return
		}
		var wg sync.WaitGroup
		for _, d := range ds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.attempt(d)
			}()
		}
		wg.Wait()
	}
}

// attempt POSTs one delivery and records the outcome: delivered on a 2xx;
// otherwise another attempt after the back-off, or failed after the last.
func (w *worker) attempt(d Delivery) {
	hook := w.s.hook
	status, err := w.post(d)
	if err != nil && w.ctx.Err() != nil {
		return // cut short by shutdown: the lease lapses and the attempt is made again
	}
	now := w.s.now()
	d.Attempts++
	d.UpdatedAt = now
	d.LastStatus, d.LastError = status, ""
	switch {
	case err == nil && status >= 200 && status < 300:
		d.Status = DeliveryDelivered
	default:
		if err != nil {
			d.LastError = err.Error()
		} else {
			d.LastError = "HTTP " + strconv.Itoa(status)
		}
		d.Status, d.NextAttemptAt = DeliveryPending, now.Add(hook.Backoff(d.Attempts))
		if d.Attempts >= hook.MaxAttempts {
			d.Status = DeliveryFailed
		}
		hook.Logger.Warn("webhook: delivery attempt failed", slog.String("delivery", d.ID), slog.Int("attempt", d.Attempts),
			slog.String("status", d.Status), slog.String("error", d.LastError))
	}
	// An attempt made is recorded even while shutting down, or it would
	// be made again.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), 10*time.Second)
	defer cancel()
	if err := w.s.outbox.RecordAttempt(ctx, d); err != nil {
		hook.Logger.Warn("webhook: recording an attempt", slog.String("delivery", d.ID), slog.String("error", err.Error()))
	}
}

// post sends the signed body; the error is a network error or timeout.
func (w *worker) post(d Delivery) (int, error) {
	hook := w.s.hook
	ctx, cancel := context.WithTimeout(w.ctx, hook.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, bytes.NewReader(d.Body))
	if err != nil {
		return 0, err
	}
	ts := strconv.FormatInt(w.s.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "pingan-webhook")
	req.Header.Set("X-Pingan-Delivery", d.ID)
	req.Header.Set("X-Pingan-Timestamp", ts)
	req.Header.Set("X-Pingan-Signature", Signature(hook.Secret, ts, d.Body))
	resp, err := hook.Client.Do(req)
	if err != nil {
		// The URL may carry a token: say what failed, not where.
		return 0, fmt.Errorf("no answer: %s", errorKind(err, ctx))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

func errorKind(err error, ctx context.Context) string {
	var ue *url.Error
	switch {
	case ctx.Err() != nil:
		return "timed out"
	case errors.As(err, &ue):
		return ue.Err.Error()
	}
	return "request failed"
}
