package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/pressly/goose/v3"
	"gorm.io/gorm"

	"pingan/internal/access"
	"pingan/internal/dispute"
	"pingan/internal/fact"
	"pingan/internal/region"
)

// factFillVersion is the migration that fills the case facts of the cases
// stored before facts existed (migration 00009 creates their tables).
const factFillVersion = 11

// SetDeadlines gives the dispute deadlines (SPEC §8.3, as configured) with
// which Migrate replays older timelines into deadline facts; the defaults
// until set. Call it before Migrate.
func (db *DB) SetDeadlines(dl dispute.Deadlines) { db.deadlines = dl }

// factFill is migration 11, in Go: it derives every stored case's facts
// from its timeline with the same code the live actions use
// (incident.Replay, dispute.Deadlines.Replay), so an older case ends up
// with exactly the facts it would have had. A resolution recorded before
// facts existed did not name its settled level: the resolving mediator's
// scope, as the users table holds it now, gives it. The index's stored
// values and results, counted before facts existed, are dropped for the
// backfill to compute again.
func (db *DB) factFill() *goose.Migration {
	return goose.NewGoMigration(factFillVersion, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		g := db.gorm.Session(&gorm.Session{NewDB: true, Context: ctx})
		g.Statement.ConnPool = tx
		if err := db.fillFacts(g, time.Now()); err != nil {
			return err
		}
		// The values past periods stored were counted from the cases'
		// current state; the backfill (SPEC §9.6) computes them again from
		// the facts, with their results, oldest first.
		for _, table := range []string{"index_values", "index_results"} {
			if err := g.Exec("DELETE FROM " + table).Error; err != nil {
				return fmt.Errorf("fill facts: clear %s: %w", table, err)
			}
		}
		return nil
	}}, nil)
}

// fillFacts writes the facts of every case that has none yet, and the
// breach of every deadline still running past due at now, as the overdue
// scan (dispute.Service.NotifyDue) writes it.
func (db *DB) fillFacts(g *gorm.DB, now time.Time) error {
	if err := fillIncidentFacts(g); err != nil {
		return err
	}
	if err := db.fillDisputeFacts(g); err != nil {
		return err
	}
	err := g.Model(&deadlineRow{}).Where("ended_at IS NULL AND breached_at IS NULL AND due_at < ?", utc(now)).
		Update("breached_at", gorm.Expr("due_at")).Error
	if err != nil {
		return fmt.Errorf("fill facts: breaches: %w", err)
	}
	return nil
}

// fillIncidentFacts derives incident facts in one statement: each accept,
// resolve and close event of the timeline is one fact with the event's id
// (incident.Replay, written in SQL for speed on a city's history; a test
// holds the two equal).
func fillIncidentFacts(g *gorm.DB) error {
	err := g.Exec(`INSERT INTO case_facts (id, case_id, case_kind, fact, at, level, satisfaction, category,
	    county_code, township_code, community_code, region_code, reporter_id, reported_at)
	SELECT e.id, e.case_id, 'incident',
	    CASE e.action WHEN 'accept' THEN ? WHEN 'resolve' THEN ? ELSE ? END,
	    e.created_at, '', NULL, i.category, i.county_code, i.township_code, i.community_code, i.region_code,
	    i.reporter_id, i.reported_at
	FROM case_events e JOIN incidents i ON i.id = e.case_id
	WHERE e.case_kind = 'incident' AND e.action IN ('accept', 'resolve', 'close')
	    AND NOT EXISTS (SELECT 1 FROM case_facts f WHERE f.id = e.id)`,
		string(fact.Accepted), string(fact.Resolved), string(fact.Closed)).Error
	if err != nil {
		return fmt.Errorf("fill incident facts: %w", err)
	}
	return nil
}

// fillDisputeFacts replays the timelines of the disputes without facts, a
// batch of cases at a time.
func (db *DB) fillDisputeFacts(g *gorm.DB) error {
	const batch = 500
	after := ""
	for {
		var rows []disputeRow
		err := g.Select("id, category, region_code, community_code, township_code, county_code, city_code, reporter_id, "+
			"reported_at, risk_level").Where("id > ?", after).
			Where("NOT EXISTS (SELECT 1 FROM case_deadlines dl WHERE dl.case_id = disputes.id)").
			Order("id").Limit(batch).Find(&rows).Error
		if err != nil {
			return fmt.Errorf("fill dispute facts: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		after = rows[len(rows)-1].ID
		ids := make([]string, len(rows))
		for i, r := range rows {
			ids[i] = r.ID
		}
		var evs []eventRow
		if err := g.Where("case_id IN ?", ids).Order("created_at, id").Find(&evs).Error; err != nil {
			return fmt.Errorf("fill dispute facts: events: %w", err)
		}
		byCase := map[string][]dispute.Event{}
		var actors []string
		for _, e := range evs {
			ev := dispute.Event{ID: e.ID, CaseID: e.CaseID, ActorID: e.ActorID, Action: e.Action, From: dispute.Status(e.FromStatus),
				To: dispute.Status(e.ToStatus), CreatedAt: e.CreatedAt}
			if e.Payload != nil {
				ev.Payload = *e.Payload
			}
			byCase[e.CaseID] = append(byCase[e.CaseID], ev)
			if e.Action == "resolve" {
				actors = append(actors, e.ActorID)
			}
		}
		levels, err := mediatorLevels(g, actors)
		if err != nil {
			return err
		}
		settledBy := func(actor string, _ dispute.Level) dispute.Level { return levels[actor] }
		var facts []fact.Fact
		var deadlines []fact.Deadline
		for _, r := range rows {
			d := dispute.Dispute{ID: r.ID, Category: r.Category, RegionCode: r.RegionCode, CommunityCode: r.CommunityCode,
				TownshipCode: r.TownshipCode, CountyCode: r.CountyCode, CityCode: r.CityCode, ReporterID: r.ReporterID,
				ReportedAt: r.ReportedAt, Risk: dispute.Risk(r.RiskLevel)}
			fs, ds, err := db.deadlines.Replay(d, byCase[r.ID], settledBy)
			if err != nil {
				return fmt.Errorf("fill dispute facts: %w", err)
			}
			facts, deadlines = append(facts, fs...), append(deadlines, ds...)
		}
		size := 200
		if db.dialect == "sqlite" {
			size = 16
		}
		if err := insertFacts(g, facts, deadlines, size); err != nil {
			return fmt.Errorf("fill dispute facts: %w", err)
		}
	}
}

// mediatorLevels gives the level of the scope of each of the users who is
// a mediator (others are left out: an admin's resolution stands at the
// case's level, as a live one does).
func mediatorLevels(g *gorm.DB, ids []string) (map[string]dispute.Level, error) {
	out := map[string]dispute.Level{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct{ ID, Level string }
	err := g.Table("users").Joins("JOIN regions ON regions.code = users.region_code").
		Where("users.id IN ? AND users.role = ?", ids, string(access.Mediator)).
		Select("users.id AS id, regions.level AS level").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("fill dispute facts: mediators: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = region.Level(r.Level)
	}
	return out, nil
}
