// Package audit is the append-only record of every write (SPEC §8.6): who,
// in which role, did what to which entity, when, from where, under which
// request id. Domain services append entries inside the transaction of the
// write they describe.
package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"pingan/internal/access"
	"pingan/internal/deps"
	"pingan/internal/errs"
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
	// RegionPath places the entry in the region tree for scoped reading
	// (SPEC §8.6): the region of the entity (a case's grid, a user's scope),
	// or the actor's scope for entities without one.
	RegionPath string
}

// In returns e placed at the region path of its entity.
func (e Entry) In(regionPath string) Entry {
	e.RegionPath = regionPath
	return e
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
		Entity: entity, EntityID: entityID, RequestID: m.RequestID, ClientIP: m.ClientIP, Details: details,
		RegionPath: p.RegionPath}
}

// Filter selects entries for FindAudit, newest first.
type Filter struct {
	// Scope is the caller's part of the tree (access.ListScope).
	Scope    access.Scope
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

// Reader reads the log for admins, in their scope (SPEC §8.6).
type Reader struct {
	store   Store
	regions access.Regions
}

// NewReader builds the reader over the log's store and the region tree.
func NewReader(store Store, regions access.Regions) *Reader {
	deps.Require("audit.NewReader", "store", store, "regions", regions)
	return &Reader{store: store, regions: regions}
}

// FindAudit lists the entries in p's subtree (by the entity's region, or
// the actor's scope for entities without one), newest first. Returns
// errs.ErrForbidden for anyone but an admin.
func (r *Reader) FindAudit(ctx context.Context, p access.Principal, f Filter) ([]Entry, error) {
	if p.Role != access.Admin {
		return nil, fmt.Errorf("the audit log is read by admins: %w", errs.ErrForbidden)
	}
	var err error
	if f.Scope, err = access.ListScope(ctx, r.regions, p, ""); err != nil {
		return nil, err
	}
	return r.store.FindAudit(ctx, f)
}
