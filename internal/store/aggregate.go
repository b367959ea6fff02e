package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"pingan/internal/errs"
	"pingan/internal/fact"
	"pingan/internal/indicator"
	"pingan/internal/ranking"
)

// Aggregate is ranking.Aggregate.
type Aggregate = ranking.Aggregate

// Aggregates computes an auto indicator's per-community figures for the
// period [from, to) (SPEC §9.2), as of now, from facts that are never
// erased (SPEC §4.3) — never from a case's current status, due date or
// update time — so a past period gives the same figures whenever it is
// computed, unless a fact about it arrived late. Each is one grouped query
// over an indexed time range; docs/scoring.md gives the definitions:
//   - count: cases that occurred in the period (Num; Den 1);
//   - resolution_rate: of the cases reported in the period (Den), those
//     with a resolution before the period's end (Num);
//   - community_resolution_rate (就地化解率): of the dispute resolutions
//     of the period (Den), those settled at community level (Num);
//   - overdue_count: deadlines due in the period that were breached (met
//     late, given up late, or still running past due at now);
//   - mean_days_to_resolve: days from report to resolution (Num) over the
//     resolutions of the period (Den);
//   - satisfaction_mean: satisfaction (Num) over the follow-ups of the
//     period (Den).
//
// An indicator's categories narrow every method. A case resolved, reopened
// and resolved again has two resolutions, each in its own period.
func (db *DB) Aggregates(ctx context.Context, ind indicator.Indicator, from, to, now time.Time) ([]Aggregate, error) {
	from, to, now = utc(from), utc(to), utc(now)
	kind := ind.Filter.Case
	table := "incidents"
	if kind == "dispute" {
		table = "disputes"
	}
	cats := func(q *gorm.DB, col string) *gorm.DB {
		if len(ind.Filter.Categories) > 0 {
			return q.Where(col+" IN ?", ind.Filter.Categories)
		}
		return q
	}
	const places = "community_code, township_code, county_code"
	facts := func(k fact.Kind) *gorm.DB {
		q := db.conn(ctx).Model(&factRow{}).Where("case_kind = ? AND fact = ? AND at >= ? AND at < ?", kind, string(k), from, to)
		return cats(q, "category")
	}
	var q *gorm.DB
	switch ind.Method {
	case indicator.Count:
		// By when it happened: a report sent late (offline) counts in its own period.
		q = cats(db.conn(ctx).Table(table).Where("occurred_at >= ? AND occurred_at < ?", from, to), "category").
			Group(places).Select(places + ", COUNT(*) AS num, 1 AS den")
	case indicator.ResolutionRate:
		resolved := db.conn(ctx).Model(&factRow{}).Select("1").
			Where("case_facts.case_id = c.id AND case_facts.fact = ? AND case_facts.at < ?", string(fact.Resolved), to)
		q = cats(db.conn(ctx).Table(table+" AS c").Where("c.created_at >= ? AND c.created_at < ?", from, to), "c.category").
			Group("c.community_code, c.township_code, c.county_code").
			Select("c.community_code, c.township_code, c.county_code, "+
				"SUM(CASE WHEN EXISTS (?) THEN 1 ELSE 0 END) AS num, COUNT(*) AS den", resolved)
	case indicator.CommunityResolutionRate:
		q = facts(fact.Resolved).Group(places).Select(places + ", " + settledAtCommunity + " AS num, COUNT(*) AS den")
	case indicator.OverdueCount:
		q = cats(db.conn(ctx).Model(&deadlineRow{}).
			Where("case_kind = ? AND due_at >= ? AND due_at < ?", kind, from, to).
			Where(breached, now), "category").
			Group(places).Select(places + ", COUNT(*) AS num, 1 AS den")
	case indicator.MeanDaysToResolve:
		return db.meanDays(facts(fact.Resolved))
	case indicator.SatisfactionMean:
		q = facts(fact.FollowedUp).Where("satisfaction IS NOT NULL").Group(places).
			Select(places + ", " + satisfactionSum + " AS num, COUNT(*) AS den")
	default:
		return nil, fmt.Errorf("%s: method %q: %w", ind.Code, ind.Method, errs.ErrInvalid)
	}
	var out []Aggregate
	if err := q.Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("aggregate %s: %w", ind.Code, translate(err))
	}
	return out, nil
}

// The definitions the index's auto indicators (above) and the period
// summary (SummaryCounts) share, so that where they coincide they give the
// same number: a deadline breached at now (fact.Deadline.Breached), a
// resolution settled at community level (就地化解率's numerator), the sum of
// the satisfactions given.
const (
	breached           = "(breached_at IS NOT NULL OR (ended_at IS NULL AND due_at < ?))"
	settledAtCommunity = "SUM(CASE WHEN level = 'community' THEN 1 ELSE 0 END)"
	satisfactionSum    = "COALESCE(SUM(satisfaction), 0)"
)

// meanDays adds up, per community, the days from report to resolution of
// the resolutions in q (computed here: date arithmetic differs between the
// SQL dialects).
func (db *DB) meanDays(q *gorm.DB) ([]Aggregate, error) {
	var rows []struct {
		CommunityCode, TownshipCode, CountyCode string
		ReportedAt, At                          time.Time
	}
	err := q.Select("community_code, township_code, county_code, reported_at, at").
		Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("aggregate days to resolve: %w", translate(err))
	}
	by := map[string]int{}
	var out []Aggregate
	for _, r := range rows {
		i, ok := by[r.CommunityCode]
		if !ok {
			out = append(out, Aggregate{CommunityCode: r.CommunityCode, TownshipCode: r.TownshipCode, CountyCode: r.CountyCode})
			i = len(out) - 1
			by[r.CommunityCode] = i
		}
		out[i].Num += r.At.Sub(r.ReportedAt).Hours() / 24
		out[i].Den++
	}
	return out, nil
}

// CountsByCategory counts the cases that occurred in [from, to) per
// community and category: one range scan of a covering index, shared by
// every count indicator of the period.
func (db *DB) CountsByCategory(ctx context.Context, caseKind string, from, to time.Time) ([]ranking.CategoryCount, error) {
	table := "incidents"
	if caseKind == "dispute" {
		table = "disputes"
	}
	var out []ranking.CategoryCount
	err := db.conn(ctx).Table(table).Where("occurred_at >= ? AND occurred_at < ?", utc(from), utc(to)).
		Group("community_code, township_code, county_code, category").
		Select("community_code, township_code, county_code, category, COUNT(*) AS num, 1 AS den").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("count %s by category: %w", table, translate(err))
	}
	return out, nil
}
