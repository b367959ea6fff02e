package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"gorm.io/gorm"

	"pingan/internal/errs"
	"pingan/internal/idempotency"
	"pingan/internal/incident"
)

// Group commit. A report from a phone is a handful of inserts (the case,
// its first timeline event, its audit entry, its idempotency receipt) and
// perhaps a checked update (its photos). Run one by one, each report costs
// a transaction of six round trips and a log flush; under load most of the
// database's time goes to that overhead, not to the rows. CreateReport
// hands a report's rows to a committer instead, which writes the reports
// of every request waiting at that moment in one transaction: one
// multi-row INSERT per table and one COMMIT, sent to MySQL as one query
// (writeBatch). Each caller returns after that COMMIT, so no acknowledged
// report is lost; if the batch fails, each report is written alone, so one
// bad report (a repeated idempotency key, a photo taken meanwhile) fails
// only itself.

// maxGroup bounds the reports written in one transaction.
const maxGroup = 64

// groupCommitters is how many batches are written at once: while one waits
// for its COMMIT, the next one is being sent.
const groupCommitters = 2

// group holds rows written together: one report's, or a batch's.
type group struct {
	incidents []incidentRow
	events    []eventRow
	audit     []auditRow
	idem      []idempotencyRow
	attaches  []attach
	jobs      []jobRow // index recomputations (a late report)
}

// attach is a photo attachment: an update that must change exactly the
// listed photos.
type attach struct {
	caseKind, caseID, uploaderID string
	photoIDs                     []string
}

// pendingGroup is a report's rows waiting for a committer.
type pendingGroup struct {
	g    *group
	done chan error
}

// committers write groups; started on first use.
type committers struct {
	start sync.Once
	queue chan *pendingGroup
	quit  chan struct{}
	stop  sync.Once
	wg    sync.WaitGroup
}

// reportRows is the rows a report writes.
func reportRows(r incident.Report) *group {
	g := &group{
		incidents: []incidentRow{incidentToRow(r.Incident)},
		events:    []eventRow{eventToRow("incident", r.Event)},
		audit:     []auditRow{auditToRow(r.Audit)},
	}
	if r.Receipt != nil {
		g.idem = []idempotencyRow{finishedRow(*r.Receipt)}
	}
	if inc := r.Incident; len(inc.PhotoIDs) > 0 {
		g.attaches = []attach{{caseKind: "incident", caseID: inc.ID, uploaderID: inc.ReporterID, photoIDs: inc.PhotoIDs}}
	}
	for _, j := range r.Recompute {
		g.jobs = append(g.jobs, jobRow{ID: j.ID, PeriodKind: j.PeriodKind, Period: j.Period, Reason: j.Reason,
			RequestedBy: j.RequestedBy, CreatedAt: utc(j.CreatedAt)})
	}
	return g
}

// CreateReport writes a new report as incident.Store describes: in the
// context's transaction when there is one; otherwise through a committer,
// in one transaction with the other reports waiting at that moment.
func (db *DB) CreateReport(ctx context.Context, r incident.Report) error {
	g := reportRows(r)
	var err error
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		err = translate(db.insertAll(ctx, tx.Statement.ConnPool, g))
	} else {
		err = db.commit(ctx, g)
	}
	if r.Receipt != nil && errors.Is(err, errs.ErrConflict) && db.keyTaken(ctx, *r.Receipt) {
		return fmt.Errorf("report %s: %w", r.Incident.ID, idempotency.ErrKeyTaken)
	}
	return err
}

// keyTaken reports whether rec's key has a record, after a write of rec
// failed on a unique key. The read locks (MySQL), so that inside a
// transaction it sees the latest committed row, not the snapshot's.
func (db *DB) keyTaken(ctx context.Context, rec idempotency.Record) bool {
	var n int64
	err := db.forUpdate(db.conn(ctx).Model(&idempotencyRow{}).Where("user_id = ? AND key_hash = ?", rec.UserID, rec.KeyHash)).
		Count(&n).Error
	return err == nil && n > 0
}

// commit hands g to the committers and returns once it is committed with
// the batch it joined, or written alone after the batch failed (with its
// own error then). Returns errs.ErrUnavailable when ctx ends first: g may
// still commit.
func (db *DB) commit(ctx context.Context, g *group) error {
	db.group.start.Do(func() {
		for range groupCommitters {
			db.group.wg.Add(1)
			go db.commitGroups()
		}
	})
	p := &pendingGroup{g: g, done: make(chan error, 1)}
	select {
	case db.group.queue <- p:
	case <-db.group.quit:
		return fmt.Errorf("the store is closing: %w", errs.ErrUnavailable)
	case <-ctx.Done():
		return fmt.Errorf("waiting to write: %v: %w", ctx.Err(), errs.ErrUnavailable)
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("waiting for the commit: %v: %w", ctx.Err(), errs.ErrUnavailable)
	}
}

// commitGroups is one committer: it takes a waiting group and every other
// one waiting then (up to maxGroup) and writes them together.
func (db *DB) commitGroups() {
	defer db.group.wg.Done()
	for {
		var batch []*pendingGroup
		select {
		case <-db.group.quit:
			return
		case p := <-db.group.queue:
			batch = append(batch, p)
		}
	more:
		for len(batch) < maxGroup {
			select {
			case p := <-db.group.queue:
				batch = append(batch, p)
			default:
				break more
			}
		}
		db.writeGroups(batch)
	}
}

// writeGroups writes the batch in one transaction; if that fails, each
// group alone, so that each request gets its own answer.
func (db *DB) writeGroups(batch []*pendingGroup) {
	gs := make([]*group, len(batch))
	for i, p := range batch {
		gs[i] = p.g
	}
	// Background: the requests' own contexts may end while others in the
	// batch still wait; the driver's timeouts bound a stalled database.
	err := db.writeTogether(context.Background(), gs)
	if err == nil || len(batch) == 1 {
		for _, p := range batch {
			p.done <- err
		}
		return
	}
	for _, p := range batch {
		p.done <- db.writeTogether(context.Background(), []*group{p.g})
	}
}

// writeTogether makes the writes of gs in one transaction: the idempotency
// records first (a repeated key fails before any other work), then one
// multi-row INSERT per table, then the checked updates.
func (db *DB) writeTogether(ctx context.Context, gs []*group) error {
	var all group
	for _, g := range gs {
		all.idem = append(all.idem, g.idem...)
		all.incidents = append(all.incidents, g.incidents...)
		all.events = append(all.events, g.events...)
		all.audit = append(all.audit, g.audit...)
		all.attaches = append(all.attaches, g.attaches...)
		all.jobs = append(all.jobs, g.jobs...)
	}
	// One order for the unique keys, so that two batches holding the same
	// keys wait for each other instead of deadlocking.
	slices.SortFunc(all.idem, func(a, b idempotencyRow) int {
		return cmp.Or(cmp.Compare(a.UserID, b.UserID), cmp.Compare(a.KeyHash, b.KeyHash))
	})
	if db.batch != nil && len(all.jobs) == 0 {
		return translate(db.writeBatch(ctx, &all))
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	if err := db.insertAll(ctx, tx, &all); err != nil {
		_ = tx.Rollback()
		return translate(err)
	}
	return translate(tx.Commit())
}

// closeGroups stops the committers; groups still queued get ErrUnavailable.
func (db *DB) closeGroups() {
	db.group.stop.Do(func() { close(db.group.quit) })
	db.group.wg.Wait()
	for {
		select {
		case p := <-db.group.queue:
			p.done <- fmt.Errorf("the store closed: %w", errs.ErrUnavailable)
		default:
			return
		}
	}
}

func newCommitters() *committers {
	return &committers{queue: make(chan *pendingGroup, 4*maxGroup), quit: make(chan struct{})}
}
