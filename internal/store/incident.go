package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"pingan/internal/errs"
	"pingan/internal/fact"
	"pingan/internal/incident"
)

type incidentRow struct {
	ID              string `gorm:"primaryKey"`
	CaseNo          string
	Category        string
	Severity        string
	Status          string
	Description     string
	Lat             *float64
	Lng             *float64
	Geohash         *string
	Address         string
	RegionCode      string
	CommunityCode   string
	TownshipCode    string
	CountyCode      string
	OccurredAt      time.Time
	ReportedAt      time.Time
	ClientCreatedAt *time.Time
	ReporterID      string
	PhotoIDs        string `gorm:"column:photo_ids"`
	Version         int
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (incidentRow) TableName() string { return "incidents" }

func incidentToRow(i incident.Incident) incidentRow {
	return incidentRow{ID: i.ID, CaseNo: i.CaseNo, Category: i.Category, Severity: string(i.Severity), Status: string(i.Status),
		Description: i.Description, Lat: i.Location.Lat, Lng: i.Location.Lng, Geohash: geohashOf(i.Location.Lat, i.Location.Lng),
		Address: i.Location.Address, RegionCode: i.RegionCode, CommunityCode: i.CommunityCode, TownshipCode: i.TownshipCode, CountyCode: i.CountyCode,
		OccurredAt: utc(i.OccurredAt), ReportedAt: utc(i.ReportedAt), ClientCreatedAt: utcPtr(i.ClientCreatedAt),
		ReporterID: i.ReporterID, PhotoIDs: strings.Join(i.PhotoIDs, ","), Version: i.Version,
		CreatedAt: utc(i.CreatedAt), UpdatedAt: utc(i.UpdatedAt)}
}

func (r incidentRow) domain() incident.Incident {
	photos := []string{}
	if r.PhotoIDs != "" {
		photos = strings.Split(r.PhotoIDs, ",")
	}
	return incident.Incident{ID: r.ID, CaseNo: r.CaseNo, Category: r.Category, Severity: incident.Severity(r.Severity),
		Status: incident.Status(r.Status), Description: r.Description,
		Location:   incident.Location{Lat: r.Lat, Lng: r.Lng, Address: r.Address},
		RegionCode: r.RegionCode, CommunityCode: r.CommunityCode, TownshipCode: r.TownshipCode, CountyCode: r.CountyCode,
		OccurredAt: r.OccurredAt, ReportedAt: r.ReportedAt, ClientCreatedAt: r.ClientCreatedAt, ReporterID: r.ReporterID,
		PhotoIDs: photos, Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

type eventRow struct {
	ID         string `gorm:"primaryKey"`
	CaseID     string
	CaseKind   string
	ActorID    string
	Action     string
	FromStatus string
	ToStatus   string
	Note       string
	RequestID  string
	CreatedAt  time.Time
	Payload    *string // JSON of what a dispute action carried
}

func (eventRow) TableName() string { return "case_events" }

func eventToRow(kind string, e incident.Event) eventRow {
	return eventRow{ID: e.ID, CaseID: e.CaseID, CaseKind: kind, ActorID: e.ActorID, Action: e.Action,
		FromStatus: string(e.From), ToStatus: string(e.To), Note: e.Note, RequestID: e.RequestID, CreatedAt: utc(e.CreatedAt)}
}

type counterRow struct {
	Prefix string `gorm:"primaryKey"`
	N      int64
}

func (counterRow) TableName() string { return "case_counters" }

// FindIncidentByID returns errs.ErrNotFound if there is none.
func (db *DB) FindIncidentByID(ctx context.Context, id string) (incident.Incident, error) {
	var row incidentRow
	if err := db.conn(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return incident.Incident{}, fmt.Errorf("find incident %s: %w", id, translate(err))
	}
	return row.domain(), nil
}

// scoped applies the scope and filter columns shared by lists and sync.
func scoped(q *gorm.DB, f incident.Filter) *gorm.DB {
	q = applyScope(q, f.Scope, caseColumns)
	for col, v := range map[string]string{"reporter_id": f.ReporterID,
		"status": string(f.Status), "category": f.Category, "severity": string(f.Severity)} {
		if v != "" {
			q = q.Where(col+" = ?", v)
		}
	}
	if !f.From.IsZero() {
		q = q.Where("created_at >= ?", utc(f.From))
	}
	if !f.To.IsZero() {
		q = q.Where("created_at < ?", utc(f.To))
	}
	return q
}

// FindIncidents lists incidents newest first, by (created_at, id).
func (db *DB) FindIncidents(ctx context.Context, f incident.Filter) ([]incident.Incident, error) {
	return db.findIncidents(ctx, db.incidentsQuery(ctx, f))
}

func (db *DB) incidentsQuery(ctx context.Context, f incident.Filter) *gorm.DB {
	q := scoped(db.conn(ctx).Model(&incidentRow{}), f)
	if f.BeforeID != "" {
		q = before(q, "created_at", f.BeforeAt, f.BeforeID)
	}
	return q.Order("created_at DESC, id DESC").Limit(f.Limit)
}

// FindChangedIncidents lists incidents by (updated_at, id) ascending.
func (db *DB) FindChangedIncidents(ctx context.Context, f incident.ChangeFilter) ([]incident.Incident, error) {
	return db.findIncidents(ctx, db.changesQuery(ctx, f))
}

func (db *DB) changesQuery(ctx context.Context, f incident.ChangeFilter) *gorm.DB {
	q := scoped(db.conn(ctx).Model(&incidentRow{}), f.Filter)
	if !f.AfterAt.IsZero() {
		q = after(q, "updated_at", f.AfterAt, f.AfterID)
	}
	return q.Order("updated_at, id").Limit(f.Limit)
}

// incidentColumns are the columns findIncidents reads, in the order of
// incidentRow.fields.
const incidentColumns = "id, case_no, category, severity, status, description, lat, lng, address, region_code, " +
	"community_code, township_code, county_code, occurred_at, reported_at, client_created_at, reporter_id, photo_ids, " +
	"version, created_at, updated_at"

// fields are the row's fields in the order of incidentColumns, for Scan.
func (r *incidentRow) fields() []any {
	return []any{&r.ID, &r.CaseNo, &r.Category, &r.Severity, &r.Status, &r.Description, &r.Lat, &r.Lng, &r.Address,
		&r.RegionCode, &r.CommunityCode, &r.TownshipCode, &r.CountyCode, &r.OccurredAt, &r.ReportedAt,
		&r.ClientCreatedAt, &r.ReporterID, &r.PhotoIDs, &r.Version, &r.CreatedAt, &r.UpdatedAt}
}

// findIncidents runs a list's query. The rows are scanned by database/sql
// into the row's fields rather than by GORM's reflection, which cost about
// half the reading time of a long export (docs/performance.md, exports).
func (db *DB) findIncidents(ctx context.Context, q *gorm.DB) ([]incident.Incident, error) {
	rows, err := q.Select(incidentColumns).Rows()
	if err != nil {
		return nil, fmt.Errorf("find incidents: %w", translate(err))
	}
	defer rows.Close()
	var out []incident.Incident
	var r incidentRow
	dst := r.fields()
	for rows.Next() {
		if err := rows.Scan(dst...); err != nil {
			return nil, fmt.Errorf("find incidents: %w", translate(err))
		}
		out = append(out, r.domain())
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find incidents: %w", translate(err))
	}
	if out == nil {
		out = []incident.Incident{}
	}
	return out, nil
}

// UpdateIncidentStatus moves the incident on if its version is unchanged.
func (db *DB) UpdateIncidentStatus(ctx context.Context, id string, version int, status incident.Status, at time.Time,
	ev incident.Event, facts []fact.Fact) error {
	return db.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&incidentRow{}).Where("id = ? AND version = ?", id, version).
			Updates(map[string]any{"status": string(status), "version": version + 1, "updated_at": utc(at)})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("incident %s changed meanwhile: %w", id, errs.ErrPrecondition)
		}
		e := eventToRow("incident", ev)
		if err := tx.Create(&e).Error; err != nil {
			return err
		}
		return writeFacts(tx, id, fact.Change{Facts: facts})
	})
}

// FindEvents lists a case's timeline in order.
func (db *DB) FindEvents(ctx context.Context, caseID string) ([]incident.Event, error) {
	var rows []eventRow
	if err := db.conn(ctx).Where("case_id = ?", caseID).Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find events: %w", translate(err))
	}
	out := make([]incident.Event, len(rows))
	for i, r := range rows {
		out[i] = incident.Event{ID: r.ID, CaseID: r.CaseID, ActorID: r.ActorID, Action: r.Action, From: incident.Status(r.FromStatus),
			To: incident.Status(r.ToStatus), Note: r.Note, RequestID: r.RequestID, CreatedAt: r.CreatedAt}
	}
	return out, nil
}

var _ incident.Store = (*DB)(nil)

// BulkInsertIncidents writes incidents, events, facts and case-number counters in
// batches inside one transaction.
func (db *DB) BulkInsertIncidents(ctx context.Context, incs []incident.Incident, events []incident.Event, facts []fact.Fact,
	counters map[string]int64) error {
	rows := make([]incidentRow, len(incs))
	for i, inc := range incs {
		rows[i] = incidentToRow(inc)
	}
	evs := make([]eventRow, len(events))
	for i, e := range events {
		evs[i] = eventToRow("incident", e)
	}
	ctrs := make([]counterRow, 0, len(counters))
	for p, n := range counters {
		ctrs = append(ctrs, counterRow{Prefix: p, N: n})
	}
	// The SQLite driver binds parameters in time quadratic in their number
	// per statement: small statements are much faster there.
	batch := 400
	if db.dialect == "sqlite" {
		batch = 12
	}
	return db.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.CreateInBatches(rows, batch).Error; err != nil {
			return err
		}
		if err := tx.CreateInBatches(evs, 2*batch).Error; err != nil {
			return err
		}
		if err := insertFacts(tx, facts, nil, 2*batch); err != nil {
			return err
		}
		return tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "prefix"}},
			DoUpdates: clause.AssignmentColumns([]string{"n"})}).CreateInBatches(ctrs, 4*batch).Error
	})
}
