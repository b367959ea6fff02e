// Package notify is the per-user inbox of SPEC §7. A notification is
// written in the transaction of the change that causes it (a new case in a
// queue, a case assigned, escalated, due soon or overdue, a warning); its owner lists it, marks it
// read and follows new ones on a live stream; and when a webhook is
// configured every notification also becomes an outbox row that a
// background worker POSTs, signed, with retries.
package notify

import (
	"context"
	"time"
)

// Kinds of notification.
const (
	KindNewCase   = "new_case"
	KindAssigned  = "assigned"
	KindEscalated = "escalated"
	KindDueSoon   = "due_soon"
	KindOverdue   = "overdue"
	KindWarning   = "warning"
)

// Kinds of case a notification may point at.
const (
	CaseDispute  = "dispute"
	CaseIncident = "incident"
	CaseWarning  = "warning" // a warning (SPEC §10): CaseID is its id
)

// Limits on what a notification carries.
const (
	MaxTitle     = 200 // characters
	MaxDedupeKey = 191 // bytes: the longest utf8mb4 key MySQL indexes with user_id
)

// FirstIDAt is the smallest notification id of the millisecond t: the ids
// of notifications written at or after t sort after it, those written
// before sort before it.
func FirstIDAt(t time.Time) string { return idAt(t) }

// Notification is one message in a user's inbox.
type Notification struct {
	ID        string // UUIDv7 (time ordered); also the SSE event id
	UserID    string
	Kind      string // KindNewCase … KindWarning
	CaseKind  string // CaseDispute, CaseIncident or ""
	CaseID    string
	CaseNo    string
	Title     string // short human text, no personal data
	DedupeKey string // optional; (UserID, DedupeKey) is unique: writing it again is silently skipped
	CreatedAt time.Time
	ReadAt    *time.Time
}

// Filter selects one user's notifications.
type Filter struct {
	UserID     string
	UnreadOnly bool
	// Ascending lists oldest first, strictly after AfterID ("" from the
	// first); otherwise newest first, strictly before BeforeID ("" from
	// the newest).
	Ascending         bool
	AfterID, BeforeID string
	Limit             int
}

// Store persists notifications. Implemented in internal/store.
type Store interface {
	// InsertNotifications writes ns in the context's transaction, except
	// those whose (UserID, DedupeKey) exists (or comes earlier in ns);
	// inserted[i] says whether ns[i] was written.
	InsertNotifications(ctx context.Context, ns []Notification) (inserted []bool, err error)
	// FindNotifications lists notifications by f.
	FindNotifications(ctx context.Context, f Filter) ([]Notification, error)
	// FindNotification returns errs.ErrNotFound unless userID owns id.
	FindNotification(ctx context.Context, userID, id string) (Notification, error)
	// MarkNotificationRead sets read_at to at when it is not set yet and
	// reports whether it did. Returns errs.ErrNotFound unless userID owns id.
	MarkNotificationRead(ctx context.Context, userID, id string, at time.Time) (changed bool, err error)
	// LatestNotificationID is the newest id of userID's notifications, ""
	// when there is none.
	LatestNotificationID(ctx context.Context, userID string) (string, error)
}
