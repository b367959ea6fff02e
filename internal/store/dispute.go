package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"pingan/internal/access"
	"pingan/internal/dispute"
	"pingan/internal/errs"
	"pingan/internal/fact"
)

type disputeRow struct {
	ID              string `gorm:"primaryKey"`
	CaseNo          string
	Category        string
	Description     string
	Lat             *float64
	Lng             *float64
	Geohash         *string
	Address         string
	RegionCode      string
	CommunityCode   string
	TownshipCode    string
	CountyCode      string
	CityCode        string
	OccurredAt      time.Time
	ReportedAt      time.Time
	ClientCreatedAt *time.Time
	ReporterID      string
	PhotoIDs        string `gorm:"column:photo_ids"`
	Amount          *int64
	RiskLevel       string
	Status          string
	Level           string
	LevelCode       string
	EnteredLevelAt  time.Time
	AssigneeID      string
	DueAt           *time.Time
	ResolvedLevel   string
	ResolvedAt      *time.Time
	Outcome         string
	FollowUps       int
	LastFollowUpAt  *time.Time
	ClosedAt        *time.Time
	Version         int
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (disputeRow) TableName() string { return "disputes" }

type partyRow struct {
	DisputeID string `gorm:"primaryKey"`
	Position  int    `gorm:"primaryKey"`
	Role      string
	Name      string
	Phone     string
	PhoneHash string
	IDNumber  string `gorm:"column:id_number"`
}

func (partyRow) TableName() string { return "dispute_parties" }

func disputeToRow(d dispute.Dispute) disputeRow {
	return disputeRow{ID: d.ID, CaseNo: d.CaseNo, Category: d.Category, Description: d.Description,
		Lat: d.Location.Lat, Lng: d.Location.Lng, Geohash: geohashOf(d.Location.Lat, d.Location.Lng),
		Address: d.Location.Address, RegionCode: d.RegionCode,
		CommunityCode: d.CommunityCode, TownshipCode: d.TownshipCode, CountyCode: d.CountyCode, CityCode: d.CityCode,
		OccurredAt: utc(d.OccurredAt), ReportedAt: utc(d.ReportedAt), ClientCreatedAt: utcPtr(d.ClientCreatedAt),
		ReporterID: d.ReporterID, PhotoIDs: strings.Join(d.PhotoIDs, ","), Amount: d.Amount, RiskLevel: string(d.Risk),
		Status: string(d.Status), Level: string(d.Level), LevelCode: d.LevelCode, EnteredLevelAt: utc(d.EnteredLevelAt),
		AssigneeID: d.AssigneeID, DueAt: utcPtr(d.DueAt), ResolvedLevel: string(d.ResolvedLevel),
		ResolvedAt: utcPtr(d.ResolvedAt), Outcome: columnText(outcomeToColumn(d.Outcome)), FollowUps: d.FollowUps,
		LastFollowUpAt: utcPtr(d.LastFollowUpAt), ClosedAt: utcPtr(d.ClosedAt), Version: d.Version,
		CreatedAt: utc(d.CreatedAt), UpdatedAt: utc(d.UpdatedAt)}
}

// domain maps the row back; a stored outcome that cannot be read is an
// error (logged with the row's id).
func (r disputeRow) domain(ctx context.Context) (dispute.Dispute, error) {
	photos := []string{}
	if r.PhotoIDs != "" {
		photos = strings.Split(r.PhotoIDs, ",")
	}
	d := dispute.Dispute{ID: r.ID, CaseNo: r.CaseNo, Category: r.Category, Description: r.Description,
		Location:   dispute.Location{Lat: r.Lat, Lng: r.Lng, Address: r.Address},
		RegionCode: r.RegionCode, CommunityCode: r.CommunityCode, TownshipCode: r.TownshipCode, CountyCode: r.CountyCode,
		CityCode: r.CityCode, OccurredAt: r.OccurredAt, ReportedAt: r.ReportedAt, ClientCreatedAt: r.ClientCreatedAt,
		ReporterID: r.ReporterID, PhotoIDs: photos, Amount: r.Amount, Risk: dispute.Risk(r.RiskLevel),
		Status: dispute.Status(r.Status), Level: dispute.Level(r.Level), LevelCode: r.LevelCode,
		EnteredLevelAt: r.EnteredLevelAt, AssigneeID: r.AssigneeID, DueAt: r.DueAt,
		ResolvedLevel: dispute.Level(r.ResolvedLevel), ResolvedAt: r.ResolvedAt, FollowUps: r.FollowUps,
		LastFollowUpAt: r.LastFollowUpAt, ClosedAt: r.ClosedAt, Version: r.Version, CreatedAt: r.CreatedAt,
		UpdatedAt: r.UpdatedAt}
	var outcome outcomeColumn
	if err := decodeColumn(ctx, "disputes", r.ID, "outcome", r.Outcome, &outcome); err != nil {
		return dispute.Dispute{}, err
	}
	d.Outcome = outcome.domain()
	return d, nil
}

func disputeEventRow(e dispute.Event) eventRow {
	r := eventRow{ID: e.ID, CaseID: e.CaseID, CaseKind: "dispute", ActorID: e.ActorID, Action: e.Action,
		FromStatus: string(e.From), ToStatus: string(e.To), Note: e.Note, RequestID: e.RequestID, CreatedAt: utc(e.CreatedAt)}
	if e.Payload != "" {
		r.Payload = &e.Payload
	}
	return r
}

// partyRows seals the parties' phone and ID numbers.
func (db *DB) partyRows(d dispute.Dispute) []partyRow {
	out := make([]partyRow, len(d.Parties))
	for i, p := range d.Parties {
		out[i] = partyRow{DisputeID: d.ID, Position: i, Role: string(p.Role), Name: p.Name,
			Phone: db.sealer.Seal(p.Phone), IDNumber: db.sealer.Seal(p.IDNumber)}
		if p.Phone != "" {
			out[i].PhoneHash = db.sealer.Hash(p.Phone)
		}
	}
	return out
}

// CreateDispute inserts the dispute, its parties, its first event and its
// first facts.
func (db *DB) CreateDispute(ctx context.Context, d dispute.Dispute, ev dispute.Event, c fact.Change) error {
	return db.tx(ctx, func(tx *gorm.DB) error {
		row := disputeToRow(d)
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("insert dispute: %w", err)
		}
		if parties := db.partyRows(d); len(parties) > 0 {
			if err := tx.Create(&parties).Error; err != nil {
				return fmt.Errorf("insert parties: %w", err)
			}
		}
		e := disputeEventRow(ev)
		if err := tx.Create(&e).Error; err != nil {
			return err
		}
		return writeFacts(tx, d.ID, c)
	})
}

// FindDisputeByID returns the dispute with its parties (decrypted), or
// errs.ErrNotFound.
func (db *DB) FindDisputeByID(ctx context.Context, id string) (dispute.Dispute, error) {
	var row disputeRow
	if err := db.conn(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return dispute.Dispute{}, fmt.Errorf("find dispute %s: %w", id, translate(err))
	}
	d, err := row.domain(ctx)
	if err != nil {
		return dispute.Dispute{}, err
	}
	var parties []partyRow
	if err := db.conn(ctx).Where("dispute_id = ?", id).Order("position").Find(&parties).Error; err != nil {
		return dispute.Dispute{}, fmt.Errorf("find parties: %w", translate(err))
	}
	d.Parties = make([]dispute.Party, len(parties))
	for i, p := range parties {
		if d.Parties[i], err = db.openParty(p); err != nil {
			return dispute.Dispute{}, err
		}
	}
	return d, nil
}

// FindParties returns the parties of the disputes (decrypted), by dispute
// id, in their order: one query on the primary key (dispute_id, position).
func (db *DB) FindParties(ctx context.Context, ids []string) (map[string][]dispute.Party, error) {
	out := map[string][]dispute.Party{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []partyRow
	if err := db.partiesQuery(ctx, ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find parties: %w", translate(err))
	}
	for _, p := range rows {
		party, err := db.openParty(p)
		if err != nil {
			return nil, err
		}
		out[p.DisputeID] = append(out[p.DisputeID], party)
	}
	return out, nil
}

// partiesQuery is FindParties' query.
func (db *DB) partiesQuery(ctx context.Context, ids []string) *gorm.DB {
	return db.conn(ctx).Model(&partyRow{}).Where("dispute_id IN ?", ids).Order("dispute_id, position")
}

// openParty decrypts a party's phone and ID number.
func (db *DB) openParty(p partyRow) (dispute.Party, error) {
	phone, err := db.sealer.Open(p.Phone)
	if err != nil {
		return dispute.Party{}, fmt.Errorf("open a party's phone of dispute %s: %v", p.DisputeID, err)
	}
	idNumber, err := db.sealer.Open(p.IDNumber)
	if err != nil {
		return dispute.Party{}, fmt.Errorf("open a party's ID number of dispute %s: %v", p.DisputeID, err)
	}
	return dispute.Party{Role: dispute.PartyRole(p.Role), Name: p.Name, Phone: phone, IDNumber: idNumber}, nil
}

// FindDisputes lists disputes newest first, by (created_at, id), without
// their parties.
func (db *DB) FindDisputes(ctx context.Context, f dispute.Filter) ([]dispute.Dispute, error) {
	return db.findDisputes(ctx, db.disputesQuery(ctx, f))
}

// FindChangedDisputes lists disputes by (updated_at, id) ascending, without
// their parties.
func (db *DB) FindChangedDisputes(ctx context.Context, f dispute.ChangeFilter) ([]dispute.Dispute, error) {
	return db.findDisputes(ctx, db.disputeChangesQuery(ctx, f))
}

func (db *DB) findDisputes(ctx context.Context, q *gorm.DB) ([]dispute.Dispute, error) {
	var rows []disputeRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find disputes: %w", translate(err))
	}
	out := make([]dispute.Dispute, len(rows))
	for i, r := range rows {
		d, err := r.domain(ctx)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

func (db *DB) disputeChangesQuery(ctx context.Context, f dispute.ChangeFilter) *gorm.DB {
	q := applyScope(db.conn(ctx).Model(&disputeRow{}), f.Scope, caseColumns)
	if !f.AfterAt.IsZero() {
		q = after(q, "updated_at", f.AfterAt, f.AfterID)
	}
	return q.Order("updated_at, id").Limit(f.Limit)
}

func (db *DB) disputesQuery(ctx context.Context, f dispute.Filter) *gorm.DB {
	q := applyScope(db.conn(ctx).Model(&disputeRow{}), f.Scope, caseColumns)
	for col, v := range map[string]string{"status": string(f.Status), "level": string(f.Level),
		"category": f.Category, "risk_level": string(f.Risk), "assignee_id": f.AssigneeID} {
		if v != "" {
			q = q.Where(col+" = ?", v)
		}
	}
	if f.Overdue != nil {
		open := []string{string(dispute.Registered), string(dispute.Accepted), string(dispute.Mediating)}
		if *f.Overdue {
			q = q.Where("status IN ? AND due_at < ?", open, utc(f.OverdueAt))
		} else {
			q = q.Where("NOT (status IN ? AND due_at IS NOT NULL AND due_at < ?)", open, utc(f.OverdueAt))
		}
	}
	if f.PhoneHash != "" {
		q = q.Where("id IN (?)", db.conn(ctx).Model(&partyRow{}).Select("dispute_id").Where("phone_hash = ?", f.PhoneHash))
	}
	if !f.From.IsZero() {
		q = q.Where("created_at >= ?", utc(f.From))
	}
	if !f.To.IsZero() {
		q = q.Where("created_at < ?", utc(f.To))
	}
	if f.BeforeID != "" {
		q = before(q, "created_at", f.BeforeAt, f.BeforeID)
	}
	return q.Order("created_at DESC, id DESC").Limit(f.Limit)
}

// UpdateDispute saves the fields an action changes if the version is
// unchanged, and appends the event and the facts.
func (db *DB) UpdateDispute(ctx context.Context, d dispute.Dispute, version int, ev dispute.Event, c fact.Change) error {
	r := disputeToRow(d)
	return db.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&disputeRow{}).Where("id = ? AND version = ?", d.ID, version).Updates(map[string]any{
			"status": r.Status, "level": r.Level, "level_code": r.LevelCode, "entered_level_at": r.EnteredLevelAt,
			"assignee_id": r.AssigneeID, "due_at": r.DueAt, "resolved_level": r.ResolvedLevel, "resolved_at": r.ResolvedAt,
			"outcome": r.Outcome, "follow_ups": r.FollowUps, "last_follow_up_at": r.LastFollowUpAt, "closed_at": r.ClosedAt,
			"photo_ids": r.PhotoIDs, "version": r.Version, "updated_at": r.UpdatedAt,
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("dispute %s changed meanwhile: %w", d.ID, errs.ErrPrecondition)
		}
		e := disputeEventRow(ev)
		if err := tx.Create(&e).Error; err != nil {
			return err
		}
		return writeFacts(tx, d.ID, c)
	})
}

// FindDisputeEvents lists a dispute's timeline in order.
func (db *DB) FindDisputeEvents(ctx context.Context, caseID string) ([]dispute.Event, error) {
	var rows []eventRow
	if err := db.conn(ctx).Where("case_id = ?", caseID).Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find events: %w", translate(err))
	}
	out := make([]dispute.Event, len(rows))
	for i, r := range rows {
		out[i] = dispute.Event{ID: r.ID, CaseID: r.CaseID, ActorID: r.ActorID, Action: r.Action, From: dispute.Status(r.FromStatus),
			To: dispute.Status(r.ToStatus), Note: r.Note, RequestID: r.RequestID, CreatedAt: r.CreatedAt}
		if r.Payload != nil {
			out[i].Payload = *r.Payload
		}
	}
	return out, nil
}

// FindDueDisputes lists open disputes due before the time, oldest deadline first.
func (db *DB) FindDueDisputes(ctx context.Context, before time.Time, limit int) ([]dispute.Dispute, error) {
	var out []dispute.Dispute
	for _, st := range []dispute.Status{dispute.Registered, dispute.Accepted, dispute.Mediating} {
		var rows []disputeRow
		err := db.dueQuery(ctx, st, before, limit).Find(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("find due disputes: %w", translate(err))
		}
		for _, r := range rows {
			d, err := r.domain(ctx)
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		}
	}
	return out, nil
}

// dueQuery is one open state's cases due before the time, by (status, due_at).
func (db *DB) dueQuery(ctx context.Context, st dispute.Status, before time.Time, limit int) *gorm.DB {
	return db.conn(ctx).Model(&disputeRow{}).Where("status = ? AND due_at < ?", string(st), utc(before)).Order("due_at").Limit(limit)
}

// CountResolutions counts the resolution facts of disputes in [from, to)
// in the scope, in total and settled at community level.
func (db *DB) CountResolutions(ctx context.Context, scope access.Scope, from, to time.Time) (int, int, error) {
	q := applyScope(db.conn(ctx).Model(&factRow{}).
		Where("case_kind = 'dispute' AND fact = ? AND at >= ? AND at < ?", fact.Resolved, utc(from), utc(to)), scope, caseColumns)
	var res struct{ Community, Total int }
	err := q.Select("COALESCE(SUM(CASE WHEN level = 'community' THEN 1 ELSE 0 END), 0) AS community, COUNT(*) AS total").
		Scan(&res).Error
	if err != nil {
		return 0, 0, fmt.Errorf("count resolutions: %w", translate(err))
	}
	return res.Community, res.Total, nil
}

var _ dispute.Store = (*DB)(nil)

// BulkInsertDisputes writes disputes, their parties (sealed), events and
// case-number counters in batches inside one transaction.
func (db *DB) BulkInsertDisputes(ctx context.Context, ds []dispute.Dispute, events []dispute.Event, facts []fact.Fact,
	deadlines []fact.Deadline, counters map[string]int64) error {
	rows := make([]disputeRow, len(ds))
	var parties []partyRow
	for i, d := range ds {
		rows[i] = disputeToRow(d)
		parties = append(parties, db.partyRows(d)...)
	}
	evs := make([]eventRow, len(events))
	for i, e := range events {
		evs[i] = disputeEventRow(e)
	}
	ctrs := make([]counterRow, 0, len(counters))
	for p, n := range counters {
		ctrs = append(ctrs, counterRow{Prefix: p, N: n})
	}
	batch := 200
	if db.dialect == "sqlite" {
		batch = 8 // see BulkInsertIncidents
	}
	return db.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.CreateInBatches(rows, batch).Error; err != nil {
			return err
		}
		if err := tx.CreateInBatches(parties, 2*batch).Error; err != nil {
			return err
		}
		if err := tx.CreateInBatches(evs, 2*batch).Error; err != nil {
			return err
		}
		if err := insertFacts(tx, facts, deadlines, 2*batch); err != nil {
			return err
		}
		return tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "prefix"}},
			DoUpdates: clause.AssignmentColumns([]string{"n"})}).CreateInBatches(ctrs, 4*batch).Error
	})
}
