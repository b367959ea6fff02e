package dispute

import (
	"slices"
	"strings"
	"testing"
	"time"

	"pingan/internal/access"
	"pingan/internal/region"
)

// The region tree of these tests: one city, two counties, two townships
// in the first, two communities in the first township, a grid in the first
// community.
const (
	city       = "370500"
	county     = "370502"
	county2    = "370523"
	township   = "370502003"
	township2  = "370502004"
	community  = "370502003001"
	community2 = "370502003002"
	grid       = "370502003001001"
)

// at is a dispute reported in grid, handled at level.
func at(level Level, status Status) Dispute {
	d := Dispute{ID: "d1", ReporterID: "u-reporter", Status: status, Level: level, RegionCode: grid,
		CommunityCode: community, TownshipCode: township, CountyCode: county, CityCode: city}
	d.LevelCode = d.codes()[level]
	return d
}

func assigned(d Dispute, userID string) Dispute {
	d.AssigneeID = userID
	return d
}

func person(role access.Role, id, path string) access.Principal {
	parts := strings.FieldsFunc(path, func(r rune) bool { return r == '/' })
	code := ""
	if len(parts) > 0 {
		code = parts[len(parts)-1]
	}
	return access.Principal{UserID: id, Username: id, Role: role, RegionCode: code, RegionPath: path}
}

var (
	cityMediator       = person(access.Mediator, "m-city", "/"+city+"/")
	countyMediator     = person(access.Mediator, "m-county", "/"+city+"/"+county+"/")
	county2Mediator    = person(access.Mediator, "m-county2", "/"+city+"/"+county2+"/")
	townshipMediator   = person(access.Mediator, "m-town", "/"+city+"/"+county+"/"+township+"/")
	township2Mediator  = person(access.Mediator, "m-town2", "/"+city+"/"+county+"/"+township2+"/")
	communityMediator  = person(access.Mediator, "m-comm", "/"+city+"/"+county+"/"+township+"/"+community+"/")
	colleague          = person(access.Mediator, "m-comm-b", "/"+city+"/"+county+"/"+township+"/"+community+"/")
	community2Mediator = person(access.Mediator, "m-comm2", "/"+city+"/"+county+"/"+township+"/"+community2+"/")
	gridMediator       = person(access.Mediator, "m-grid", "/"+city+"/"+county+"/"+township+"/"+community+"/"+grid+"/")
	noScopeMediator    = access.Principal{UserID: "m-none", Role: access.Mediator}
	cityAdmin          = person(access.Admin, "a-city", "/"+city+"/")
	countyAdmin        = person(access.Admin, "a-county", "/"+city+"/"+county+"/")
	townshipAdmin      = person(access.Admin, "a-town", "/"+city+"/"+county+"/"+township+"/")
	township2Admin     = person(access.Admin, "a-town2", "/"+city+"/"+county+"/"+township2+"/")
	citySupervisor     = person(access.Supervisor, "s-city", "/"+city+"/")
	gridWorker         = person(access.GridWorker, "u-reporter", "/"+city+"/"+county+"/"+township+"/"+community+"/"+grid+"/")
)

// The action list and state machine are SPEC §8.1's table, row by row.
func TestTransitionsAreSpecTable(t *testing.T) {
	want := map[string]struct {
		from []Status
		to   Status
	}{
		"accept":         {[]Status{Registered}, Accepted},
		"start":          {[]Status{Accepted}, Mediating},
		"record_session": {[]Status{Mediating}, Mediating},
		"resolve":        {[]Status{Mediating}, Resolved},
		"fail":           {[]Status{Mediating}, Failed},
		"escalate":       {[]Status{Registered, Accepted, Mediating, Failed}, Registered},
		"refer":          {[]Status{Failed}, Referred},
		"follow_up":      {[]Status{Resolved}, Resolved},
		"close":          {[]Status{Resolved, Referred}, Closed},
		"reopen":         {[]Status{Resolved, Closed}, Registered},
	}
	wantActions := []string{"accept", "close", "escalate", "fail", "follow_up", "record_session", "refer", "reopen", "resolve", "start"}
	if got := Actions(); !slices.Equal(got, wantActions) {
		t.Errorf("Actions() = %v, want %v", got, wantActions)
	}
	for action, w := range want {
		got, ok := transitions[action]
		if !ok {
			t.Errorf("%s: missing", action)
			continue
		}
		from := slices.Clone(got.from)
		slices.Sort(from)
		wantFrom := slices.Clone(w.from)
		slices.Sort(wantFrom)
		if !slices.Equal(from, wantFrom) || got.to != w.to {
			t.Errorf("%s: %v → %s, want %v → %s", action, got.from, got.to, w.from, w.to)
		}
	}
	if len(transitions) != len(want) {
		t.Errorf("%d actions, want %d", len(transitions), len(want))
	}
}

// TestLevels: escalation goes community → township → county → city and
// stops there (SPEC §8.1); the grid is not a handling level.
func TestLevels(t *testing.T) {
	for _, c := range []struct {
		level Level
		rank  int
		next  Level
	}{
		{region.Community, 0, region.Township},
		{region.Township, 1, region.County},
		{region.County, 2, region.City},
		{region.City, 3, ""},
		{region.Grid, -1, ""},
		{"", -1, ""},
		{"province", -1, ""},
	} {
		if got := rank(c.level); got != c.rank {
			t.Errorf("rank(%q) = %d, want %d", c.level, got, c.rank)
		}
		if got := next(c.level); got != c.next {
			t.Errorf("next(%q) = %q, want %q", c.level, got, c.next)
		}
	}
}

// TestHandles: a mediator acts on cases in their subtree whose level is
// theirs or lower (SPEC §8.1); an admin acts in their scope (SPEC §5);
// supervisors and grid workers take no dispute action.
func TestHandles(t *testing.T) {
	levels := []Level{region.Community, region.Township, region.County, region.City}
	for _, c := range []struct {
		name string
		p    access.Principal
		// handles, per case level community, township, county, city
		want [4]bool
		// specNote names the SPEC rule a row checks where it is easily misread.
		specNote string
	}{
		{"city mediator", cityMediator, [4]bool{true, true, true, true}, ""},
		{"county mediator", countyMediator, [4]bool{true, true, true, false}, ""},
		{"other county's mediator", county2Mediator, [4]bool{false, false, false, false}, ""},
		{"township mediator", townshipMediator, [4]bool{true, true, false, false}, ""},
		{"other township's mediator", township2Mediator, [4]bool{false, false, false, false}, ""},
		{"community mediator", communityMediator, [4]bool{true, false, false, false}, ""},
		{"other community's mediator", community2Mediator, [4]bool{false, false, false, false}, ""},
		{"grid mediator: below every handling level", gridMediator, [4]bool{false, false, false, false}, ""},
		{"mediator without scope", noScopeMediator, [4]bool{false, false, false, false}, ""},
		{"city admin", cityAdmin, [4]bool{true, true, true, true}, ""},
		{"system", access.System, [4]bool{true, true, true, true}, ""},
		{"other township's admin", township2Admin, [4]bool{false, false, false, false}, ""},
		{"county admin", countyAdmin, [4]bool{true, true, true, true},
			"SPEC §5: admin ✓ for dispute actions on cases whose region_code is in scope, with no level limit"},
		{"township admin", townshipAdmin, [4]bool{true, true, true, true},
			"SPEC §5: admin ✓ for dispute actions on cases whose region_code is in scope, with no level limit"},
		{"city supervisor", citySupervisor, [4]bool{false, false, false, false}, ""},
		{"grid worker of the grid, its reporter", gridWorker, [4]bool{false, false, false, false}, ""},
	} {
		for i, l := range levels {
			if got := handles(c.p, at(l, Registered)); got != c.want[i] {
				t.Errorf("%s, %s-level case: handles = %v, want %v%s", c.name, l, got, c.want[i], note(c.specNote))
			}
		}
	}
}

func note(specNote string) string {
	if specNote == "" {
		return ""
	}
	return "\n\tSPEC: " + specNote
}

// TestMay: who may take each action (SPEC §5, §8.1), on a community-level
// case assigned to the community mediator.
func TestMay(t *testing.T) {
	all := Actions()
	withoutMediation := []string{"accept", "close", "escalate", "follow_up", "refer", "reopen"}
	d := assigned(at(region.Community, Mediating), communityMediator.UserID)
	for _, c := range []struct {
		name    string
		p       access.Principal
		d       Dispute
		allowed []string
	}{
		{"the assignee", communityMediator, d, all},
		{"a colleague at the level: not the mediation itself", colleague, d, withoutMediation},
		// SPEC §8.1 says "mediator at the case's level" for accept and
		// reopen; its paragraph below lets a mediator act on cases of
		// their level and lower, which the code follows.
		{"a township mediator above the case", townshipMediator, d, withoutMediation},
		{"the city mediator", cityMediator, d, withoutMediation},
		// SPEC §5 gives admins every dispute action; §8.1's "assignee"
		// binds mediators.
		{"the city admin", cityAdmin, d, all},
		{"a mediator of another community", community2Mediator, d, nil},
		{"the assignee once the case is at township level", communityMediator,
			assigned(at(region.Township, Mediating), communityMediator.UserID), nil},
		{"a township mediator assigned at township level", townshipMediator,
			assigned(at(region.Township, Mediating), townshipMediator.UserID), all},
		{"a supervisor", citySupervisor, d, nil},
		{"the grid worker who reported it", gridWorker, d, nil},
		{"a mediator when no one is assigned", communityMediator, at(region.Community, Registered), withoutMediation},
	} {
		for _, a := range all {
			want := slices.Contains(c.allowed, a)
			if got := may(c.p, c.d, a); got != want {
				t.Errorf("%s, %s: may = %v, want %v", c.name, a, got, want)
			}
		}
	}
}

// TestTimely: the rules of time and level beyond the state (SPEC §8.1).
func TestTimely(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	const (
		cityRefused     = "a case at city level cannot be escalated further"
		followUpRefused = "a follow-up was recorded less than 7 days ago"
		closeRefused    = "a resolved case is closed after at least one follow-up"
		reopenRefused   = "a case may be reopened within 90 days"
	)
	resolved := func(edit func(d *Dispute)) Dispute {
		d := at(region.Community, Resolved)
		d.ResolvedLevel, d.ResolvedAt = region.Community, ago(10*day)
		edit(&d)
		return d
	}
	closed := func(resolvedAgo, closedAgo time.Duration) Dispute {
		d := at(region.Community, Closed)
		d.ResolvedAt, d.ClosedAt = ago(resolvedAgo), ago(closedAgo)
		return d
	}
	for _, c := range []struct {
		name   string
		d      Dispute
		action string
		want   string
	}{
		{"escalate from community", at(region.Community, Registered), "escalate", ""},
		{"escalate from township", at(region.Township, Mediating), "escalate", ""},
		{"escalate from county to city", at(region.County, Failed), "escalate", ""},
		{"escalate at city", at(region.City, Registered), "escalate", cityRefused},
		{"escalate a failed case at city", at(region.City, Failed), "escalate", cityRefused},

		{"first follow-up", resolved(func(d *Dispute) {}), "follow_up", ""},
		{"follow-up an hour after one", resolved(func(d *Dispute) { d.FollowUps, d.LastFollowUpAt = 1, ago(time.Hour) }), "follow_up", followUpRefused},
		{"follow-up 1 ns short of 7 days", resolved(func(d *Dispute) { d.FollowUps, d.LastFollowUpAt = 1, ago(7*day-1) }), "follow_up", followUpRefused},
		{"follow-up exactly 7 days after one", resolved(func(d *Dispute) { d.FollowUps, d.LastFollowUpAt = 1, ago(7*day) }), "follow_up", ""},
		{"follow-up 8 days after one", resolved(func(d *Dispute) { d.FollowUps, d.LastFollowUpAt = 3, ago(8*day) }), "follow_up", ""},

		{"close a resolved case without follow-up", resolved(func(d *Dispute) {}), "close", closeRefused},
		{"close a resolved case after one follow-up", resolved(func(d *Dispute) { d.FollowUps, d.LastFollowUpAt = 1, ago(time.Hour) }), "close", ""},
		{"close a referred case: no follow-up needed", at(region.Community, Referred), "close", ""},

		{"reopen a day after resolution", resolved(func(d *Dispute) { d.ResolvedAt = ago(day) }), "reopen", ""},
		{"reopen exactly 90 days after resolution", resolved(func(d *Dispute) { d.ResolvedAt = ago(90 * day) }), "reopen", ""},
		{"reopen 90 days and 1 ns after resolution", resolved(func(d *Dispute) { d.ResolvedAt = ago(90*day + 1) }), "reopen", reopenRefused},
		{"reopen a resolved case with no resolution time", resolved(func(d *Dispute) { d.ResolvedAt = nil }), "reopen", reopenRefused},
		// SPEC §8.1 says "within 90 days" for reopening from resolved or
		// closed without naming the start: read as since the case entered
		// that state.
		{"reopen exactly 90 days after closing", closed(100*day, 90*day), "reopen", ""},
		{"reopen 90 days and 1 ns after closing", closed(100*day, 90*day+1), "reopen", reopenRefused},
		{"reopen a referred-then-closed case", func() Dispute { d := closed(0, day); d.ResolvedAt = nil; return d }(), "reopen", ""},

		{"accept: no rule of time", at(region.City, Registered), "accept", ""},
		{"start: no rule of time", at(region.City, Accepted), "start", ""},
		{"record_session: no rule of time", at(region.Community, Mediating), "record_session", ""},
		{"resolve: no rule of time", at(region.Community, Mediating), "resolve", ""},
		{"fail: no rule of time", at(region.Community, Mediating), "fail", ""},
		{"refer: no rule of time", at(region.City, Failed), "refer", ""},
	} {
		if got := timely(c.d, c.action, now); got != c.want {
			t.Errorf("%s: timely = %q, want %q", c.name, got, c.want)
		}
	}
}

// TestAllowedActions: what a caller is offered is the state's actions they
// may take and the rules of time allow, sorted; never nil (JSON []).
func TestAllowedActions(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	me := communityMediator.UserID
	resolved := func(resolvedAgo time.Duration, followUps int, lastAgo time.Duration) Dispute {
		d := assigned(at(region.Community, Resolved), me)
		d.ResolvedAt, d.FollowUps = ago(resolvedAgo), followUps
		if followUps > 0 {
			d.LastFollowUpAt = ago(lastAgo)
		}
		return d
	}
	closed := func(closedAgo time.Duration) Dispute {
		d := at(region.Community, Closed)
		d.ResolvedAt, d.ClosedAt = ago(closedAgo+day), ago(closedAgo)
		return d
	}
	for _, c := range []struct {
		name string
		p    access.Principal
		d    Dispute
		want []string
	}{
		{"registered, community mediator", communityMediator, at(region.Community, Registered), []string{"accept", "escalate"}},
		{"registered, city admin", cityAdmin, at(region.Community, Registered), []string{"accept", "escalate"}},
		{"registered at city, city mediator", cityMediator, at(region.City, Registered), []string{"accept"}},
		{"registered at township, township mediator", townshipMediator, at(region.Township, Registered), []string{"accept", "escalate"}},
		{"registered at township, community mediator (reads only)", communityMediator, at(region.Township, Registered), []string{}},
		{"accepted, assignee", communityMediator, assigned(at(region.Community, Accepted), me), []string{"escalate", "start"}},
		{"accepted, colleague", colleague, assigned(at(region.Community, Accepted), me), []string{"escalate"}},
		{"mediating, assignee", communityMediator, assigned(at(region.Community, Mediating), me), []string{"escalate", "fail", "record_session", "resolve"}},
		{"mediating, colleague", colleague, assigned(at(region.Community, Mediating), me), []string{"escalate"}},
		{"mediating at city, assignee", cityMediator, assigned(at(region.City, Mediating), cityMediator.UserID), []string{"fail", "record_session", "resolve"}},
		{"failed", colleague, at(region.Community, Failed), []string{"escalate", "refer"}},
		{"failed at city", cityMediator, at(region.City, Failed), []string{"refer"}},
		{"resolved, no follow-up yet", communityMediator, resolved(day, 0, 0), []string{"follow_up", "reopen"}},
		{"resolved, followed up a day ago", communityMediator, resolved(2*day, 1, day), []string{"close", "reopen"}},
		{"resolved, followed up exactly 7 days ago", communityMediator, resolved(10*day, 1, 7*day), []string{"close", "follow_up", "reopen"}},
		{"resolved 90 days ago exactly", communityMediator, resolved(90*day, 1, 8*day), []string{"close", "follow_up", "reopen"}},
		{"resolved 91 days ago", communityMediator, resolved(91*day, 1, 8*day), []string{"close", "follow_up"}},
		{"referred", colleague, at(region.Community, Referred), []string{"close"}},
		{"closed a day ago", colleague, closed(day), []string{"reopen"}},
		{"closed 91 days ago", colleague, closed(91 * day), []string{}},
		{"registered, supervisor", citySupervisor, at(region.Community, Registered), []string{}},
		{"registered, its reporter", gridWorker, at(region.Community, Registered), []string{}},
		{"mediating, other community's mediator", community2Mediator, assigned(at(region.Community, Mediating), me), []string{}},
	} {
		got := AllowedActions(c.p, c.d, now)
		if got == nil || !slices.Equal(got, c.want) {
			t.Errorf("%s: AllowedActions = %#v, want %#v", c.name, got, c.want)
		}
	}
}
