package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"pingan/internal/errs"
	"pingan/internal/indicator"
	"pingan/internal/ranking"
)

// Aggregate is ranking.Aggregate.
type Aggregate = ranking.Aggregate

// Aggregates computes an auto indicator's per-community figures for
// [from, to) (SPEC §9.2), one grouped query over an indexed time range:
//   - count: cases that occurred in the period matching the filter (Den 1);
//   - resolution_rate: of those, resolved by the period's end (Num) over all (Den);
//   - community_resolution_rate: disputes resolved in the period at community level over all resolved then;
//   - overdue_count: disputes whose deadline fell in the period and were not resolved by it;
//   - mean_days_to_resolve: days from report to resolution (Num) over resolutions (Den) in the period;
//   - satisfaction_mean: the last follow-up's satisfaction of disputes followed up in the period.
func (db *DB) Aggregates(ctx context.Context, ind indicator.Indicator, from, to time.Time) ([]Aggregate, error) {
	from, to = utc(from), utc(to)
	table := "incidents"
	if ind.Filter.Case == "dispute" {
		table = "disputes"
	}
	base := db.conn(ctx).Table(table)
	if len(ind.Filter.Categories) > 0 {
		base = base.Where("category IN ?", ind.Filter.Categories)
	}
	q := base.Session(&gorm.Session{}).Group("community_code, township_code, county_code")
	cols := "community_code, township_code, county_code, "
	resolved := "status IN ('resolved', 'closed')"
	if table == "disputes" {
		resolved = "resolved_at IS NOT NULL"
	}
	switch ind.Method {
	case indicator.Count:
		// By when it happened: a report sent late (offline) counts in its own period.
		q = q.Where("occurred_at >= ? AND occurred_at < ?", from, to).Select(cols + "COUNT(*) AS num, 1 AS den")
	case indicator.ResolutionRate:
		q = q.Where("occurred_at >= ? AND occurred_at < ?", from, to).
			Select(cols+"SUM(CASE WHEN "+resolved+" AND updated_at < ? THEN 1 ELSE 0 END) AS num, COUNT(*) AS den", to)
	case indicator.CommunityResolutionRate:
		q = q.Where("resolved_at >= ? AND resolved_at < ?", from, to).
			Select(cols + "SUM(CASE WHEN resolved_level = 'community' THEN 1 ELSE 0 END) AS num, COUNT(*) AS den")
	case indicator.OverdueCount:
		q = q.Where("due_at >= ? AND due_at < ? AND (resolved_at IS NULL OR resolved_at > due_at)", from, to).
			Select(cols + "COUNT(*) AS num, 1 AS den")
	case indicator.MeanDaysToResolve:
		if table != "disputes" {
			return nil, fmt.Errorf("%s: mean_days_to_resolve needs disputes: %w", ind.Code, errs.ErrInvalid)
		}
		return db.meanDays(base.Session(&gorm.Session{}), from, to)
	case indicator.SatisfactionMean:
		return db.satisfaction(ctx, base.Session(&gorm.Session{}), from, to)
	default:
		return nil, fmt.Errorf("%s: method %q: %w", ind.Code, ind.Method, errs.ErrInvalid)
	}
	var out []Aggregate
	if err := q.Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("aggregate %s: %w", ind.Code, translate(err))
	}
	return out, nil
}

// meanDays adds up, per community, the days from report to resolution of
// the disputes resolved in the period (computed here: date arithmetic
// differs between the SQL dialects).
func (db *DB) meanDays(q *gorm.DB, from, to time.Time) ([]Aggregate, error) {
	var rows []struct {
		CommunityCode, TownshipCode, CountyCode string
		CreatedAt, ResolvedAt                   time.Time
	}
	err := q.Where("resolved_at >= ? AND resolved_at < ?", from, to).
		Select("community_code, township_code, county_code, created_at, resolved_at").Scan(&rows).Error
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
		out[i].Num += r.ResolvedAt.Sub(r.CreatedAt).Hours() / 24
		out[i].Den++
	}
	return out, nil
}

// satisfaction averages the last follow-up's satisfaction of the disputes
// followed up in the period. An outcome that cannot be read fails the
// computation rather than leave the case out unnoticed.
func (db *DB) satisfaction(ctx context.Context, q *gorm.DB, from, to time.Time) ([]Aggregate, error) {
	var rows []struct {
		ID, CommunityCode, TownshipCode, CountyCode string
		Outcome                                     string
	}
	err := q.Where("last_follow_up_at >= ? AND last_follow_up_at < ?", from, to).
		Select("id, community_code, township_code, county_code, outcome").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("aggregate satisfaction: %w", translate(err))
	}
	by := map[string]int{}
	var out []Aggregate
	for _, r := range rows {
		var o outcomeColumn
		if err := decodeColumn(ctx, "disputes", r.ID, "outcome", r.Outcome, &o); err != nil {
			return nil, fmt.Errorf("aggregate satisfaction: %w", err)
		}
		if o.Satisfaction == nil {
			continue
		}
		i, ok := by[r.CommunityCode]
		if !ok {
			out = append(out, Aggregate{CommunityCode: r.CommunityCode, TownshipCode: r.TownshipCode, CountyCode: r.CountyCode})
			i = len(out) - 1
			by[r.CommunityCode] = i
		}
		out[i].Num += float64(*o.Satisfaction)
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
