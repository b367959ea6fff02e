package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"pingan/internal/fact"
	"pingan/internal/report"
)

// SummaryCounts counts the raw figures of the period summary (SPEC §11.1)
// for q, per child region (q.Child) or, with q.Child "", for the scope as
// one (key ""). Every count is one grouped range scan of an index that
// holds the columns it reads (migration 00017):
//   - cases reported in [Start, End) (by created_at), by kind, category,
//     current status and level — from the case tables;
//   - resolutions in the period by whole hours from report, and by whole
//     hours from report to the case's first acceptance — case_facts;
//   - deadlines due in the period: met on time, breached — case_deadlines;
//   - follow-ups in the period and their satisfaction — case_facts;
//   - cases open at AsOf: disputes are those with a deadline running then
//     (a dispute has one exactly while it is open), overdue when it was
//     past due; incidents (which have no deadlines) those open now and
//     reported before AsOf, plus those reported before AsOf that ended
//     (resolved, rejected, cancelled: an incident ends once) since.
func (db *DB) SummaryCounts(ctx context.Context, q report.CountQuery) (map[string]*report.Counts, error) {
	out := map[string]*report.Counts{}
	at := func(child string) *report.Counts {
		c := out[child]
		if c == nil {
			c = &report.Counts{}
			out[child] = c
		}
		return c
	}
	start, end, asOf, now := utc(q.Start), utc(q.End), utc(q.AsOf), utc(q.Now)
	child, group := "'' AS child", ""
	if q.Child != "" {
		child, group = q.Child+" AS child", q.Child+", "
	}
	scoped := func(g *gorm.DB) *gorm.DB { return applyScope(g, q.Scope, caseColumns) }
	kinds := map[string]bool{}
	for _, k := range q.Kinds {
		kinds[k] = true
	}

	for _, t := range []struct{ kind, table, level string }{{"incident", "incidents", "''"}, {"dispute", "disputes", "level"}} {
		if !kinds[t.kind] {
			continue
		}
		var rows []struct {
			Child, Category, Status, Level string
			N                              int
		}
		levelGroup := ""
		if t.level != "''" {
			levelGroup = ", level"
		}
		err := scoped(db.conn(ctx).Table(t.table).Where("created_at >= ? AND created_at < ?", start, end)).
			Select(child + ", category, status, " + t.level + " AS level, COUNT(*) AS n").
			Group(group + "category, status" + levelGroup).Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("summary: reported %s: %w", t.table, translate(err))
		}
		for _, r := range rows {
			c := at(r.Child)
			c.Reported = append(c.Reported, report.Reported{Kind: t.kind, Category: r.Category, Status: r.Status, Level: r.Level, N: r.N})
		}
	}

	facts := func(k ...fact.Kind) *gorm.DB {
		names := make([]string, len(k))
		for i, f := range k {
			names[i] = string(f)
		}
		return scoped(db.conn(ctx).Table("case_facts").Where("case_kind IN ? AND fact IN ?", q.Kinds, names))
	}
	var hours []struct {
		Child, CaseKind, Level string
		Hours                  *int
		N                      int
	}
	err := facts(fact.Resolved).Where("at >= ? AND at < ?", start, end).
		Select(child + ", case_kind, level, " + db.hoursBetween("reported_at", "at") + " AS hours, COUNT(*) AS n").
		Group(group + "case_kind, level, hours").Scan(&hours).Error
	if err != nil {
		return nil, fmt.Errorf("summary: resolutions: %w", translate(err))
	}
	for _, r := range hours {
		c := at(r.Child)
		c.Resolutions = append(c.Resolutions, report.Hours{Kind: r.CaseKind, Level: r.Level, Hours: *r.Hours, N: r.N})
	}
	hours = hours[:0]
	first := "(SELECT MIN(a.at) FROM case_facts a WHERE a.case_id = case_facts.case_id AND a.fact = 'accepted')"
	err = facts(fact.Resolved).Where("at >= ? AND at < ?", start, end).
		Select(child + ", case_kind, " + db.hoursBetween("reported_at", first) + " AS hours, COUNT(*) AS n").
		Group(group + "case_kind, hours").Scan(&hours).Error
	if err != nil {
		return nil, fmt.Errorf("summary: acceptances: %w", translate(err))
	}
	for _, r := range hours {
		if r.Hours != nil { // resolved without being accepted (on the spot)
			c := at(r.Child)
			c.Acceptances = append(c.Acceptances, report.Hours{Kind: r.CaseKind, Hours: *r.Hours, N: r.N})
		}
	}

	var due []struct {
		Child              string
		Due, Met, Breached int
	}
	err = scoped(db.conn(ctx).Table("case_deadlines").Where("case_kind IN ? AND due_at >= ? AND due_at < ?", q.Kinds, start, end)).
		Select(child+", COUNT(*) AS due, "+
			"SUM(CASE WHEN met_at IS NOT NULL AND breached_at IS NULL THEN 1 ELSE 0 END) AS met, "+
			"SUM(CASE WHEN breached_at IS NOT NULL OR (ended_at IS NULL AND due_at < ?) THEN 1 ELSE 0 END) AS breached", now).
		Group(group + "case_kind").Scan(&due).Error
	if err != nil {
		return nil, fmt.Errorf("summary: deadlines: %w", translate(err))
	}
	for _, r := range due {
		c := at(r.Child)
		c.Deadlines.Due += r.Due
		c.Deadlines.Met += r.Met
		c.Deadlines.Breached += r.Breached
	}

	var follow []struct {
		Child      string
		N, Sum, SN int
	}
	err = facts(fact.FollowedUp).Where("at >= ? AND at < ?", start, end).
		Select(child + ", COUNT(*) AS n, COALESCE(SUM(satisfaction), 0) AS sum, COUNT(satisfaction) AS sn").
		Group(group + "case_kind").Scan(&follow).Error
	if err != nil {
		return nil, fmt.Errorf("summary: follow-ups: %w", translate(err))
	}
	for _, r := range follow {
		c := at(r.Child)
		c.FollowUps += r.N
		c.SatisfactionSum += r.Sum
		c.SatisfactionN += r.SN
	}

	var open []struct {
		Child      string
		N, Overdue int
	}
	add := func() {
		for _, r := range open {
			c := at(r.Child)
			c.Open += r.N
			c.Overdue += r.Overdue
		}
		open = open[:0]
	}
	if kinds["dispute"] {
		err = scoped(db.conn(ctx).Table("case_deadlines").
			Where("case_kind = 'dispute' AND (ended_at IS NULL OR ended_at >= ?) AND started_at < ?", asOf, asOf)).
			Select(child+", COUNT(*) AS n, SUM(CASE WHEN due_at < ? THEN 1 ELSE 0 END) AS overdue", asOf).
			Group(group + "case_kind").Scan(&open).Error
		if err != nil {
			return nil, fmt.Errorf("summary: open disputes: %w", translate(err))
		}
		add()
	}
	if kinds["incident"] {
		err = scoped(db.conn(ctx).Table("incidents").Where("status IN ? AND created_at < ?", q.OpenIncident, asOf)).
			Select(child + ", COUNT(*) AS n, 0 AS overdue").Group(group + "status").Scan(&open).Error
		if err != nil {
			return nil, fmt.Errorf("summary: open incidents: %w", translate(err))
		}
		add()
		ends := []string{string(fact.Resolved), string(fact.Rejected), string(fact.Cancelled)}
		err = scoped(db.conn(ctx).Table("case_facts").
			Where("case_kind = 'incident' AND fact IN ? AND at >= ? AND reported_at < ?", ends, asOf, asOf)).
			Select(child + ", COUNT(*) AS n, 0 AS overdue").Group(group + "case_kind").Scan(&open).Error
		if err != nil {
			return nil, fmt.Errorf("summary: incidents ended since: %w", translate(err))
		}
		add()
	}
	return out, nil
}

// hoursBetween is the SQL of the whole hours from a to b (both DATETIME
// columns or expressions, b ≥ a), truncated; NULL when b is.
func (db *DB) hoursBetween(a, b string) string {
	if db.dialect == "sqlite" {
		return "((CAST(strftime('%s', " + b + ") AS INTEGER) - CAST(strftime('%s', " + a + ") AS INTEGER)) / 3600)"
	}
	return "TIMESTAMPDIFF(HOUR, " + a + ", " + b + ")"
}
