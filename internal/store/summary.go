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
//     (resolved, rejected, cancelled: an incident ends once) since;
//   - with report.PartFlows (asked for by the daily counts), the
//     period's report.Flow: incidents reported and ended, dispute
//     deadlines begun, ended, and due — case tables, case_facts,
//     case_deadlines.
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
	qs := db.summaryQueries(ctx, q)
	scan := func(name string, dst any) error {
		if err := qs[name].Scan(dst).Error; err != nil {
			return fmt.Errorf("summary: %s: %w", name, translate(err))
		}
		return nil
	}
	for _, kind := range q.Kinds {
		if qs["reported "+kind] == nil {
			continue
		}
		var rows []struct {
			Child, Category, Status, Level string
			N                              int
		}
		if err := scan("reported "+kind, &rows); err != nil {
			return nil, err
		}
		for _, r := range rows {
			c := at(r.Child)
			c.Reported = append(c.Reported, report.Reported{Kind: kind, Category: r.Category, Status: r.Status, Level: r.Level, N: r.N})
		}
	}
	if qs["resolutions"] != nil {
		if err := db.scanFacts(qs, scan, at); err != nil {
			return nil, err
		}
	}
	for _, name := range []string{"flow incidents opened", "flow incidents closed", "flow deadlines opened",
		"flow deadlines closed", "flow deadlines due", "flow deadlines due late"} {
		if qs[name] == nil {
			continue
		}
		var flows []struct {
			Child  string
			N, Due int
		}
		if err := scan(name, &flows); err != nil {
			return nil, err
		}
		for _, r := range flows {
			f := &at(r.Child).Flow
			switch name {
			case "flow incidents opened", "flow deadlines opened":
				f.Opened += r.N
			case "flow incidents closed":
				f.Closed += r.N
			case "flow deadlines closed":
				f.Closed += r.N
				f.DueClosed += r.Due
			case "flow deadlines due", "flow deadlines due late":
				f.Due += r.N
				f.DueClosed += r.Due
			}
		}
	}
	for _, name := range []string{"open disputes", "open incidents", "incidents ended since"} {
		if qs[name] == nil {
			continue
		}
		var open []struct {
			Child      string
			N, Overdue int
		}
		if err := scan(name, &open); err != nil {
			return nil, err
		}
		for _, r := range open {
			c := at(r.Child)
			c.Open += r.N
			c.Overdue += r.Overdue
		}
	}
	return out, nil
}

// scanFacts reads the counts of PartFacts into out's regions (at).
func (db *DB) scanFacts(qs map[string]*gorm.DB, scan func(string, any) error, at func(string) *report.Counts) error {
	var hours []struct {
		Child, CaseKind, Level string
		Hours                  *int
		N                      int
	}
	if err := scan("resolutions", &hours); err != nil {
		return err
	}
	for _, r := range hours {
		c := at(r.Child)
		c.Resolutions = append(c.Resolutions, report.Hours{Kind: r.CaseKind, Level: r.Level, Hours: *r.Hours, N: r.N})
	}
	hours = hours[:0]
	if err := scan("acceptances", &hours); err != nil {
		return err
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
	for _, name := range []string{"deadlines", "deadlines begun late"} {
		due = due[:0]
		if err := scan(name, &due); err != nil {
			return err
		}
		for _, r := range due {
			c := at(r.Child)
			c.Deadlines.Due += r.Due
			c.Deadlines.Met += r.Met
			c.Deadlines.Breached += r.Breached
		}
	}
	var follow []struct {
		Child      string
		N, Sum, SN int
	}
	if err := scan("follow-ups", &follow); err != nil {
		return err
	}
	for _, r := range follow {
		c := at(r.Child)
		c.FollowUps += r.N
		c.SatisfactionSum += r.Sum
		c.SatisfactionN += r.SN
	}
	return nil
}

// summaryQueries are the queries of SummaryCounts by name (one per kind for
// the cases reported: "reported incident", "reported dispute"; the open
// cases only for the kinds asked), of the parts q asks for.
func (db *DB) summaryQueries(ctx context.Context, q report.CountQuery) map[string]*gorm.DB {
	start, end, asOf, now := utc(q.Start), utc(q.End), utc(q.AsOf), utc(q.Now)
	child, group := "'' AS child", ""
	if q.Child != "" {
		col := q.Child
		if col == report.ChildPlaces {
			col = "county_code || '/' || township_code || '/' || community_code"
			if db.dialect == "mysql" {
				col = "CONCAT(county_code, '/', township_code, '/', community_code)"
			}
		}
		child, group = col+" AS child", col+", "
	}
	scoped := func(table string) *gorm.DB { return applyScope(db.conn(ctx).Table(table), q.Scope, caseColumns) }
	facts := func(k ...fact.Kind) *gorm.DB {
		names := make([]string, len(k))
		for i, f := range k {
			names[i] = string(f)
		}
		return scoped("case_facts").Where("case_kind IN ? AND fact IN ?", q.Kinds, names)
	}
	qs := map[string]*gorm.DB{}
	for _, kind := range q.Kinds {
		table, level, levelGroup := "incidents", "''", ""
		if kind == "dispute" {
			table, level, levelGroup = "disputes", "level", ", level"
		}
		if q.Parts.Has(report.PartReported) {
			qs["reported "+kind] = scoped(table).Where("created_at >= ? AND created_at < ?", start, end).
				Select(child + ", category, status, " + level + " AS level, COUNT(*) AS n").
				Group(group + "category, status" + levelGroup)
		}
		ends := []string{string(fact.Resolved), string(fact.Rejected), string(fact.Cancelled)}
		if q.Parts&report.PartFlows != 0 {
			// A day's flows (report.Flow), in [start, end).
			switch kind {
			case "incident":
				qs["flow incidents opened"] = scoped("incidents").Where("created_at >= ? AND created_at < ?", start, end).
					Select(child + ", COUNT(*) AS n, 0 AS due").Group(group + "'incident'")
				qs["flow incidents closed"] = scoped("case_facts").
					Where("case_kind = 'incident' AND fact IN ? AND at >= ? AND at < ?", ends, start, end).
					Select(child + ", COUNT(*) AS n, 0 AS due").Group(group + "case_kind")
			case "dispute":
				deadlines := func() *gorm.DB { return scoped("case_deadlines").Where("case_kind = 'dispute'") }
				qs["flow deadlines opened"] = deadlines().Where("started_at >= ? AND started_at < ?", start, end).
					Select(child + ", COUNT(*) AS n, 0 AS due").Group(group + "case_kind")
				// The later of due and end: the end, when it came at or
				// after the due time; else the due time.
				qs["flow deadlines closed"] = deadlines().Where("ended_at >= ? AND ended_at < ?", start, end).
					Select(child + ", COUNT(*) AS n, SUM(CASE WHEN due_at <= ended_at THEN 1 ELSE 0 END) AS due").
					Group(group + "case_kind")
				// Due by the due time, or by the start when it began after
				// its due time (as the summary's deadlines due).
				qs["flow deadlines due"] = deadlines().Where("due_at >= ? AND due_at < ?", start, end).
					Select(child + ", SUM(CASE WHEN started_at <= due_at THEN 1 ELSE 0 END) AS n, " +
						"SUM(CASE WHEN ended_at < due_at THEN 1 ELSE 0 END) AS due").
					Group(group + "case_kind")
				qs["flow deadlines due late"] = deadlines().
					Where("started_at >= ? AND started_at < ? AND due_at < started_at", start, end).
					Select(child + ", COUNT(*) AS n, 0 AS due").Group(group + "case_kind")
			}
		}
		if !q.Parts.Has(report.PartOpen) {
			continue
		}
		switch kind {
		case "dispute":
			qs["open disputes"] = scoped("case_deadlines").
				Where("case_kind = 'dispute' AND (ended_at IS NULL OR ended_at >= ?) AND started_at < ?", asOf, asOf).
				Select(child+", COUNT(*) AS n, SUM(CASE WHEN due_at < ? THEN 1 ELSE 0 END) AS overdue", asOf).
				Group(group + "case_kind")
		case "incident":
			qs["open incidents"] = scoped("incidents").Where("status IN ? AND created_at < ?", q.OpenIncident, asOf).
				Select(child + ", COUNT(*) AS n, 0 AS overdue").Group(group + "status")
			qs["incidents ended since"] = scoped("case_facts").
				Where("case_kind = 'incident' AND fact IN ? AND at >= ? AND reported_at < ?", ends, asOf, asOf).
				Select(child + ", COUNT(*) AS n, 0 AS overdue").Group(group + "case_kind")
		}
	}
	if !q.Parts.Has(report.PartFacts) {
		return qs
	}
	qs["resolutions"] = facts(fact.Resolved).Where("at >= ? AND at < ?", start, end).
		Select(child + ", case_kind, level, " + db.hoursBetween("reported_at", "at") + " AS hours, COUNT(*) AS n").
		Group(group + "case_kind, level, hours")
	first := "(SELECT MIN(a.at) FROM case_facts a WHERE a.case_id = case_facts.case_id AND a.fact = 'accepted')"
	qs["acceptances"] = facts(fact.Resolved).Where("at >= ? AND at < ?", start, end).
		Select(child + ", case_kind, " + db.hoursBetween("reported_at", first) + " AS hours, COUNT(*) AS n").
		Group(group + "case_kind, hours")
	// A deadline is due in the period by its due time, or by its start if
	// it began after its due time (a case accepted later than its whole
	// resolve limit): it was due, and breached, from the moment it began.
	// So no deadline ever becomes due in a period that has ended.
	deadlines := func(where string, args ...any) *gorm.DB {
		return scoped("case_deadlines").Where("case_kind IN ? AND "+where, append([]any{q.Kinds}, args...)...).
			Select(child+", COUNT(*) AS due, "+
				"SUM(CASE WHEN met_at IS NOT NULL AND breached_at IS NULL THEN 1 ELSE 0 END) AS met, "+
				"SUM(CASE WHEN "+breached+" THEN 1 ELSE 0 END) AS breached", now).
			Group(group + "case_kind")
	}
	qs["deadlines"] = deadlines("due_at >= ? AND due_at < ? AND started_at <= due_at", start, end)
	qs["deadlines begun late"] = deadlines("started_at >= ? AND started_at < ? AND due_at < started_at", start, end)
	qs["follow-ups"] = facts(fact.FollowedUp).Where("at >= ? AND at < ?", start, end).
		Select(child + ", COUNT(*) AS n, " + satisfactionSum + " AS sum, COUNT(satisfaction) AS sn").
		Group(group + "case_kind")
	return qs
}

// hoursBetween is the SQL of the whole hours from a to b (both DATETIME
// columns or expressions, b ≥ a), truncated; NULL when b is.
func (db *DB) hoursBetween(a, b string) string {
	if db.dialect == "sqlite" {
		return "((CAST(strftime('%s', " + b + ") AS INTEGER) - CAST(strftime('%s', " + a + ") AS INTEGER)) / 3600)"
	}
	return "TIMESTAMPDIFF(HOUR, " + a + ", " + b + ")"
}
