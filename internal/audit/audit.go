// Package audit is the append-only record of every write (SPEC §8.6): who,
// in which role, did what to which entity, when, from where, under which
// request id. Domain services append entries inside the transaction of the
// write they describe.
package audit

import (
	"context"
	"time"

	"github.com/google/uuid"

	"pingan/internal/access"
	"pingan/internal/txn"
)

// Entry is one audited action.
type Entry struct {
	ID        string
	At        time.Time
	ActorID   string
	ActorRole access.Role
	Action    string // e.g. "incident.create", "user.update"
	Entity    string // e.g. "incident", "user"
	EntityID  string
	RequestID string
	ClientIP  string
	// Details is a short JSON object with what changed; never personal data.
	Details string
}

// Meta is what the HTTP layer knows about a request, carried in its context.
type Meta struct{ RequestID, ClientIP string }

type metaKey struct{}

// WithMeta returns ctx carrying m.
func WithMeta(ctx context.Context, m Meta) context.Context {
	return context.WithValue(ctx, metaKey{}, m)
}

// MetaFrom returns the request metadata of ctx (zero outside a request).
func MetaFrom(ctx context.Context) Meta {
	m, _ := ctx.Value(metaKey{}).(Meta)
	return m
}

// New builds an entry for p's action on an entity, stamped with ctx's request.
func New(ctx context.Context, p access.Principal, at time.Time, action, entity, entityID, details string) Entry {
	m := MetaFrom(ctx)
	return Entry{ID: uuid.Must(uuid.NewV7()).String(), At: at, ActorID: p.UserID, ActorRole: p.Role, Action: action,
		Entity: entity, EntityID: entityID, RequestID: m.RequestID, ClientIP: m.ClientIP, Details: details}
}

// Filter selects entries for FindAudit, newest first.
type Filter struct {
	Entity   string
	ActorID  string
	From, To time.Time // zero: unbounded
	// Before is the keyset cursor: entries strictly before (At, ID).
	BeforeAt time.Time
	BeforeID string
	Limit    int
}

// Store persists the log. Implemented in internal/store.
type Store interface {
	// AppendAudit writes e; inside a transaction context it joins it.
	AppendAudit(ctx context.Context, e Entry) error
	// FindAudit lists entries newest first.
	FindAudit(ctx context.Context, f Filter) ([]Entry, error)
}

// Log is what services hold to write entries atomically with their changes:
// they open the transaction (InTx) and append to it.
type Log interface {
	txn.Transactor
	Store
}
