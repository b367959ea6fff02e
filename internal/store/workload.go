package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"pingan/internal/access"
	"pingan/internal/fact"
	"pingan/internal/workload"
)

// The workload report (SPEC §11.3, internal/workload): the people of a
// scope, a page at a time, then what the people of that page did in the
// period — each figure one grouped read of an index that starts with the
// person (incidents_reporter, disputes_reporter, and case_events_actor of
// migration 00018), so a page costs the activity of its people, not of the
// city.

var _ workload.Store = (*DB)(nil)

// FindPeople lists the grid workers and mediators of f.Roles whose region
// lies in f.Scope, by role then id, with their region's name.
func (db *DB) FindPeople(ctx context.Context, f workload.Filter) ([]workload.Person, error) {
	var rows []struct {
		ID, Username, Name, Role, RegionCode, RegionName string
		Active                                           bool
	}
	if err := db.peopleQuery(ctx, f).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("find people: %w", translate(err))
	}
	out := make([]workload.Person, len(rows))
	for i, r := range rows {
		out[i] = workload.Person{ID: r.ID, Username: r.Username, Name: r.Name, Role: access.Role(r.Role),
			RegionCode: r.RegionCode, RegionName: r.RegionName, Active: r.Active}
	}
	return out, nil
}

// peopleQuery is FindPeople's query: users joined to their region (for the
// scope's path prefix and the name), in (role, id) order from the cursor.
func (db *DB) peopleQuery(ctx context.Context, f workload.Filter) *gorm.DB {
	roles := make([]string, len(f.Roles))
	for i, r := range f.Roles {
		roles[i] = string(r)
	}
	q := applyScope(db.conn(ctx).Table("users").
		Select("users.id, users.username, users.name, users.role, users.region_code, regions.name AS region_name, users.active").
		Joins("JOIN regions ON regions.code = users.region_code"), f.Scope, userColumns).
		Where("users.role IN ?", roles)
	if a := f.After; a != nil {
		q = q.Where("(users.role > ? OR (users.role = ? AND users.id > ?))", string(a.Role), string(a.Role), a.UserID)
	}
	return q.Order("users.role, users.id").Limit(f.Limit)
}

// actorCount is one grouped count of a person's rows.
type actorCount struct {
	ActorID string
	Action  string
	N       int
}

// GridWorkerActivity counts, per user of ids, the incidents and disputes
// reported in [start, end) (by report time, created_at) and the confirm
// events on incidents.
func (db *DB) GridWorkerActivity(ctx context.Context, ids []string, start, end time.Time) (workload.GridWorkerActivity, error) {
	out := workload.GridWorkerActivity{Reports: map[string]int{}, Confirmations: map[string]int{}}
	for _, table := range []string{"incidents", "disputes"} {
		var rows []actorCount
		if err := db.reportsQuery(ctx, table, ids, start, end).Scan(&rows).Error; err != nil {
			return out, fmt.Errorf("count reports in %s: %w", table, translate(err))
		}
		for _, r := range rows {
			out.Reports[r.ActorID] += r.N
		}
	}
	var rows []actorCount
	if err := db.actionsQuery(ctx, ids, "incident", []string{workload.Confirm}, start, end).Scan(&rows).Error; err != nil {
		return out, fmt.Errorf("count confirmations: %w", translate(err))
	}
	for _, r := range rows {
		out.Confirmations[r.ActorID] += r.N
	}
	return out, nil
}

// reportsQuery counts the cases of table reported by each of ids in
// [start, end): a range of the (reporter_id, created_at, id) index.
func (db *DB) reportsQuery(ctx context.Context, table string, ids []string, start, end time.Time) *gorm.DB {
	return db.conn(ctx).Table(table).Select("reporter_id AS actor_id, COUNT(*) AS n").
		Where("reporter_id IN ? AND created_at >= ? AND created_at < ?", ids, utc(start), utc(end)).
		Group("reporter_id")
}

// actionsQuery counts the timeline events of the actions on cases of kind
// caseKind by each of ids in [start, end), per action: ranges of
// case_events_actor (actor_id, action, created_at, case_kind), read from
// the index alone.
func (db *DB) actionsQuery(ctx context.Context, ids []string, caseKind string, actions []string, start, end time.Time) *gorm.DB {
	return db.conn(ctx).Table("case_events").Select("actor_id, action, COUNT(*) AS n").
		Where("actor_id IN ? AND action IN ? AND created_at >= ? AND created_at < ? AND case_kind = ?",
			ids, actions, utc(start), utc(end), caseKind).
		Group("actor_id, action")
}

// MediatorActivity reads, for the users of ids, their dispute actions of
// [start, end) by action, their resolutions with the report time and the
// resolve deadline each met, and the follow-ups of the period on the cases
// they settled.
func (db *DB) MediatorActivity(ctx context.Context, ids []string, start, end time.Time) (workload.MediatorActivity, error) {
	out := workload.MediatorActivity{Actions: map[string]map[string]int{}}
	var counts []actorCount
	if err := db.actionsQuery(ctx, ids, "dispute", workload.MediatorActions, start, end).Scan(&counts).Error; err != nil {
		return out, fmt.Errorf("count mediator actions: %w", translate(err))
	}
	for _, c := range counts {
		if out.Actions[c.ActorID] == nil {
			out.Actions[c.ActorID] = map[string]int{}
		}
		out.Actions[c.ActorID][c.Action] += c.N
	}
	var res []struct {
		ActorID            string
		At, ReportedAt     time.Time
		DeadlineID         *string
		DeadlineBreachedAt *time.Time
	}
	if err := db.resolutionsQuery(ctx, ids, start, end).Scan(&res).Error; err != nil {
		return out, fmt.Errorf("read resolutions: %w", translate(err))
	}
	for _, r := range res {
		out.Resolutions = append(out.Resolutions, workload.Resolution{ActorID: r.ActorID, ReportedAt: r.ReportedAt, At: r.At,
			Deadline: r.DeadlineID != nil, Breached: r.DeadlineBreachedAt != nil})
	}
	var fus []struct {
		SettledBy    string
		Satisfaction int
	}
	if err := db.followUpsQuery(ctx, ids, start, end).Scan(&fus).Error; err != nil {
		return out, fmt.Errorf("read follow-ups: %w", translate(err))
	}
	for _, f := range fus {
		out.FollowUps = append(out.FollowUps, workload.FollowUp{SettledBy: f.SettledBy, Satisfaction: f.Satisfaction})
	}
	return out, nil
}

// resolutionsQuery reads the resolve events of ids in [start, end) with
// their case's report time (from the resolved fact, whose id is the
// event's) and the resolve deadline the event met: the one of the case
// that ended, met, at the event's time (case_deadlines_case).
func (db *DB) resolutionsQuery(ctx context.Context, ids []string, start, end time.Time) *gorm.DB {
	return db.conn(ctx).Table("case_events AS e").
		Select("e.actor_id, e.created_at AS at, f.reported_at, d.id AS deadline_id, d.breached_at AS deadline_breached_at").
		Joins("JOIN case_facts AS f ON f.id = e.id").
		Joins("LEFT JOIN case_deadlines AS d ON d.case_id = e.case_id AND d.ended_at = e.created_at AND d.kind = ? AND d.met_at IS NOT NULL",
			string(fact.Resolve)).
		Where("e.actor_id IN ? AND e.action = ? AND e.created_at >= ? AND e.created_at < ? AND e.case_kind = ?",
			ids, workload.Resolve, utc(start), utc(end), "dispute")
}

// followUpsQuery reads the follow-ups recorded in [start, end) on the
// disputes settled by ids: for each resolve event of theirs before end,
// the case's follow-up facts of the period after it, unless another
// resolve (after a reopening) came between the two.
func (db *DB) followUpsQuery(ctx context.Context, ids []string, start, end time.Time) *gorm.DB {
	later := db.conn(ctx).Table("case_events AS r2").Select("1").
		Where("r2.case_id = r.case_id AND r2.action = ? AND r2.created_at > r.created_at AND r2.created_at <= f.at", workload.Resolve)
	return db.conn(ctx).Table("case_events AS r").Select("r.actor_id AS settled_by, f.satisfaction").
		Joins("JOIN case_facts AS f ON f.case_id = r.case_id AND f.fact = ? AND f.at >= r.created_at AND f.at >= ? AND f.at < ?",
			string(fact.FollowedUp), utc(start), utc(end)).
		Where("r.actor_id IN ? AND r.action = ? AND r.created_at < ? AND r.case_kind = ?", ids, workload.Resolve, utc(end), "dispute").
		Where("f.satisfaction IS NOT NULL AND NOT EXISTS (?)", later)
}
