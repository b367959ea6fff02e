package notify

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/deps"
	"pingan/internal/txn"
)

// Service writes, lists and streams notifications and runs the webhook
// worker. Close stops the worker and ends the open streams.
type Service struct {
	store  Store
	outbox Outbox
	tx     txn.Transactor
	audit  audit.Store
	hook   Webhook
	now    func() time.Time

	mu      sync.Mutex
	streams map[string]map[*Subscription]struct{} // by user id
	ended   chan struct{}                         // closed by EndStreams
	endOnce sync.Once

	worker *worker // nil without a webhook
}

// NewService builds the service. hook.URL empty turns the webhook off;
// otherwise Start runs its worker. Every dependency is required (the
// outbox too: the webhook is a setting, its table is not); a nil one
// panics, naming it.
func NewService(store Store, outbox Outbox, tx txn.Transactor, log audit.Store, hook Webhook, now func() time.Time) *Service {
	deps.Require("notify.NewService", "store", store, "outbox", outbox, "tx", tx, "log", log, "now", now)
	s := &Service{store: store, outbox: outbox, tx: tx, audit: log, hook: hook.withDefaults(), now: now,
		streams: map[string]map[*Subscription]struct{}{}, ended: make(chan struct{})}
	if hook.URL != "" {
		s.worker = newWorker(s)
	}
	return s
}

// Start runs the webhook worker in the background, when a webhook is
// configured. Close stops it.
func (s *Service) Start() {
	if s.worker != nil {
		s.worker.start()
	}
}

// Close ends the open streams and stops the webhook worker, waiting for an
// attempt in flight (bounded by the attempt timeout).
func (s *Service) Close() {
	s.EndStreams()
	if s.worker != nil {
		s.worker.stop()
	}
}

// Notify writes ns in the context's transaction (or in one of its own).
// Empty IDs and CreatedAt are filled in; a notification whose (UserID,
// DedupeKey) exists is skipped. With a webhook configured each written
// notification also queues a delivery in the same transaction. After the
// commit, this instance's open streams of the users concerned and the
// webhook worker are woken. A notification missing its user, kind or
// title is a programming error, returned as such (500).
func (s *Service) Notify(ctx context.Context, ns ...Notification) error {
	if len(ns) == 0 {
		return nil
	}
	now := s.now()
	list := make([]Notification, len(ns))
	for i, n := range ns {
		if err := check(n); err != nil {
			return fmt.Errorf("notification %d: %v", i, err)
		}
		if n.ID == "" {
			n.ID = uuid.Must(uuid.NewV7()).String()
		}
		if n.CreatedAt.IsZero() {
			n.CreatedAt = now
		}
		list[i] = n
	}
	return s.tx.InTx(ctx, func(ctx context.Context) error {
		inserted, err := s.store.InsertNotifications(ctx, list)
		if err != nil {
			return fmt.Errorf("notify: %w", err)
		}
		var users []string
		var deliveries []Delivery
		for i, n := range list {
			if inserted[i] {
				users = append(users, n.UserID)
				deliveries = append(deliveries, newDelivery(n, now))
			}
		}
		if s.worker != nil && len(deliveries) > 0 {
			if err := s.outbox.InsertDeliveries(ctx, deliveries); err != nil {
				return fmt.Errorf("queue webhook deliveries: %w", err)
			}
		}
		if len(users) > 0 {
			s.tx.AfterCommit(ctx, func() {
				s.wake(users)
				if s.worker != nil {
					s.worker.poke()
				}
			})
		}
		return nil
	})
}

func check(n Notification) error {
	switch {
	case n.UserID == "":
		return fmt.Errorf("no user")
	case n.Kind != KindNewCase && n.Kind != KindAssigned && n.Kind != KindEscalated && n.Kind != KindDueSoon && n.Kind != KindOverdue && n.Kind != KindWarning:
		return fmt.Errorf("kind %q is not known", n.Kind)
	case n.CaseKind != "" && n.CaseKind != CaseDispute && n.CaseKind != CaseIncident && n.CaseKind != CaseWarning:
		return fmt.Errorf("case kind %q is not known", n.CaseKind)
	case strings.TrimSpace(n.Title) == "" || utf8.RuneCountInString(n.Title) > MaxTitle || !utf8.ValidString(n.Title):
		return fmt.Errorf("the title must be 1 to %d characters of UTF-8", MaxTitle)
	case len(n.DedupeKey) > MaxDedupeKey:
		return fmt.Errorf("the dedupe key is over %d bytes", MaxDedupeKey)
	case n.ID != "" && !ValidID(n.ID):
		return fmt.Errorf("the id is not a UUID in lower case")
	case len(n.CaseID) > 36 || len(n.CaseNo) > 40 || len(n.UserID) > 36:
		return fmt.Errorf("a case id, case number or user id is too long")
	}
	return nil
}

// Query selects the caller's notifications.
type Query struct {
	UnreadOnly bool
	// Ascending lists oldest first, after AfterID ("" from the first);
	// otherwise newest first, before BeforeID ("" from the newest).
	Ascending         bool
	AfterID, BeforeID string
	Limit             int
}

// FindNotifications lists p's own notifications.
func (s *Service) FindNotifications(ctx context.Context, p access.Principal, q Query) ([]Notification, error) {
	return s.store.FindNotifications(ctx, Filter{UserID: p.UserID, UnreadOnly: q.UnreadOnly, Ascending: q.Ascending,
		AfterID: q.AfterID, BeforeID: q.BeforeID, Limit: q.Limit})
}

// MarkRead marks p's notification read and returns it; reading it again
// keeps the first read_at. Returns errs.ErrNotFound when the notification
// does not exist or is someone else's.
func (s *Service) MarkRead(ctx context.Context, p access.Principal, id string) (Notification, error) {
	now := s.now()
	var n Notification
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		changed, err := s.store.MarkNotificationRead(ctx, p.UserID, id, now)
		if err != nil {
			return err
		}
		if changed {
			if err := s.audit.AppendAudit(ctx, audit.New(ctx, p, now, "notification.read", "notification", id, "")); err != nil {
				return err
			}
		}
		n, err = s.store.FindNotification(ctx, p.UserID, id)
		return err
	})
	if err != nil {
		return Notification{}, fmt.Errorf("read notification %s: %w", id, err)
	}
	return n, nil
}

// ValidID reports whether id has the shape of a notification id (a UUID
// in lower case), so that a cursor or Last-Event-ID can be checked before
// it reaches a query.
func ValidID(id string) bool {
	u, err := uuid.Parse(id)
	return err == nil && len(id) == 36 && u.String() == id
}
