package incident

import (
	"slices"
	"testing"

	"pingan/internal/access"
)

// The state machine and action list are SPEC §6.4's, action by action.
func TestTransitionsAreSpec(t *testing.T) {
	want := map[string]struct {
		from []Status
		to   Status
	}{
		"accept":  {[]Status{Reported}, Accepted},
		"start":   {[]Status{Accepted}, InProgress},
		"resolve": {[]Status{Accepted, InProgress, Reported}, Resolved},
		"close":   {[]Status{Resolved}, Closed},
		"reject":  {[]Status{Accepted, Reported}, Rejected},
		"cancel":  {[]Status{Reported}, Cancelled},
	}
	if got, w := Actions(), []string{"accept", "cancel", "close", "reject", "resolve", "start"}; !slices.Equal(got, w) {
		t.Errorf("Actions() = %v, want %v", got, w)
	}
	if len(transitions) != len(want) {
		t.Errorf("%d actions, want %d", len(transitions), len(want))
	}
	for action, w := range want {
		got, ok := transitions[action]
		if !ok {
			t.Errorf("%s: missing", action)
			continue
		}
		from := slices.Clone(got.from)
		slices.Sort(from)
		if !slices.Equal(from, w.from) || got.to != w.to {
			t.Errorf("%s: %v → %s, want %v → %s", action, got.from, got.to, w.from, w.to)
		}
	}
}

var (
	reporter   = access.Principal{UserID: "u-gw", Role: access.GridWorker, RegionCode: "370502003001001"}
	otherGW    = access.Principal{UserID: "u-gw2", Role: access.GridWorker, RegionCode: "370502003001001"}
	mediator   = access.Principal{UserID: "u-med", Role: access.Mediator, RegionCode: "370502003"}
	supervisor = access.Principal{UserID: "u-sup", Role: access.Supervisor, RegionCode: "370502"}
	admin      = access.Principal{UserID: "u-adm", Role: access.Admin, RegionCode: "370500"}
)

func report(by string, sev Severity, st Status) Incident {
	return Incident{ID: "i1", ReporterID: by, Severity: sev, Status: st, RegionCode: "370502003001001"}
}

// TestMay: who may take each action (SPEC §5 incident transitions, §6.4).
// Scope is not may's: it is checked before, when the incident is found.
func TestMay(t *testing.T) {
	all := Actions()
	commandCentre := []string{"accept", "close", "reject", "resolve", "start"}
	for _, c := range []struct {
		name    string
		p       access.Principal
		inc     Incident
		allowed []string
	}{
		// Grid worker: own: cancel; resolve on the spot if not high/critical.
		{"grid worker, own low report", reporter, report("u-gw", Low, Reported), []string{"cancel", "resolve"}},
		{"grid worker, own medium report", reporter, report("u-gw", Medium, Reported), []string{"cancel", "resolve"}},
		{"grid worker, own high report", reporter, report("u-gw", High, Reported), []string{"cancel"}},
		{"grid worker, own critical report", reporter, report("u-gw", Critical, Reported), []string{"cancel"}},
		// On the spot is reported → resolved; once the command centre has
		// it, resolving is theirs.
		{"grid worker, own low report accepted", reporter, report("u-gw", Low, Accepted), []string{"cancel"}},
		{"grid worker, own low report in progress", reporter, report("u-gw", Low, InProgress), []string{"cancel"}},
		{"grid worker, another's low report in the grid", otherGW, report("u-gw", Low, Reported), nil},
		// SPEC §5 gives mediators no incident transitions; §6.4 lets the
		// reporter cancel, and mediators may report (§5): the code lets a
		// mediator cancel their own report.
		{"mediator, own report", mediator, report("u-med", Low, Reported), []string{"cancel"}},
		{"mediator, another's report", mediator, report("u-gw", Low, Reported), nil},
		// The command centre: every transition in scope but cancel, which
		// is the reporter's.
		{"supervisor, a grid worker's report", supervisor, report("u-gw", Critical, Reported), commandCentre},
		{"supervisor, a low report in progress", supervisor, report("u-gw", Low, InProgress), commandCentre},
		// SPEC §5: admin ✓ for incident transitions.
		{"admin, a grid worker's report", admin, report("u-gw", High, Reported), all},
		{"admin, own report", admin, report("u-adm", Low, Reported), all},
		{"unknown role", access.Principal{UserID: "u-gw", Role: access.Department}, report("u-gw", Low, Reported), nil},
	} {
		for _, a := range all {
			want := slices.Contains(c.allowed, a)
			if got := may(c.p, c.inc, a); got != want {
				t.Errorf("%s, %s: may = %v, want %v", c.name, a, got, want)
			}
		}
	}
}

// TestAllowedActions: what a caller is offered in each state, sorted; an
// empty list, never nil (JSON []).
func TestAllowedActions(t *testing.T) {
	for _, c := range []struct {
		name string
		p    access.Principal
		inc  Incident
		want []string
	}{
		{"supervisor, reported", supervisor, report("u-gw", Low, Reported), []string{"accept", "reject", "resolve"}},
		{"supervisor, accepted", supervisor, report("u-gw", Low, Accepted), []string{"reject", "resolve", "start"}},
		{"supervisor, in progress", supervisor, report("u-gw", Low, InProgress), []string{"resolve"}},
		{"supervisor, resolved", supervisor, report("u-gw", Low, Resolved), []string{"close"}},
		{"supervisor, closed", supervisor, report("u-gw", Low, Closed), []string{}},
		{"supervisor, rejected", supervisor, report("u-gw", Low, Rejected), []string{}},
		{"supervisor, cancelled", supervisor, report("u-gw", Low, Cancelled), []string{}},
		{"admin, reported", admin, report("u-gw", Critical, Reported), []string{"accept", "cancel", "reject", "resolve"}},
		{"admin, accepted", admin, report("u-gw", Critical, Accepted), []string{"reject", "resolve", "start"}},
		{"admin, resolved", admin, report("u-gw", Critical, Resolved), []string{"close"}},
		{"reporter, low, reported", reporter, report("u-gw", Low, Reported), []string{"cancel", "resolve"}},
		{"reporter, medium, reported", reporter, report("u-gw", Medium, Reported), []string{"cancel", "resolve"}},
		{"reporter, high, reported", reporter, report("u-gw", High, Reported), []string{"cancel"}},
		{"reporter, critical, reported", reporter, report("u-gw", Critical, Reported), []string{"cancel"}},
		{"reporter, low, accepted", reporter, report("u-gw", Low, Accepted), []string{}},
		{"reporter, low, in progress", reporter, report("u-gw", Low, InProgress), []string{}},
		{"reporter, low, resolved", reporter, report("u-gw", Low, Resolved), []string{}},
		{"reporter, low, cancelled", reporter, report("u-gw", Low, Cancelled), []string{}},
		{"another grid worker, reported", otherGW, report("u-gw", Low, Reported), []string{}},
		{"mediator, own report", mediator, report("u-med", Low, Reported), []string{"cancel"}},
		{"mediator, own report accepted", mediator, report("u-med", Low, Accepted), []string{}},
		{"mediator, another's report", mediator, report("u-gw", Low, Reported), []string{}},
	} {
		got := AllowedActions(c.p, c.inc)
		if got == nil || !slices.Equal(got, c.want) {
			t.Errorf("%s: AllowedActions = %#v, want %#v", c.name, got, c.want)
		}
	}
}
