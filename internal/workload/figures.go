package workload

import (
	"math"
	"slices"
	"time"
)

// The timeline actions the report counts (case_events.action). A
// confirmation (SPEC §6.4: a reporter adds one to an existing incident
// instead of filing a duplicate) is an event of action Confirm on the
// incident; the mediators' actions are those of SPEC §8.1 on disputes.
const (
	Confirm       = "confirm"
	Accept        = "accept"
	RecordSession = "record_session"
	Resolve       = "resolve"
	Fail          = "fail"
	Escalate      = "escalate"
)

// MediatorActions are the dispute actions counted per mediator.
var MediatorActions = []string{Accept, RecordSession, Resolve, Fail, Escalate}

// GridWorkerActivity is what grid workers did in a period, by user id.
type GridWorkerActivity struct {
	// Reports counts the incidents and disputes each reported (by report
	// time).
	Reports map[string]int
	// Confirmations counts each one's confirm events on incidents.
	Confirmations map[string]int
}

// GridWorkerFigures are a grid worker's figures of a period.
type GridWorkerFigures struct {
	Reports       int
	Confirmations int
}

// Figures are the figures of each grid worker with any activity.
func (a GridWorkerActivity) Figures() map[string]GridWorkerFigures {
	out := map[string]GridWorkerFigures{}
	for id, n := range a.Reports {
		f := out[id]
		f.Reports = n
		out[id] = f
	}
	for id, n := range a.Confirmations {
		f := out[id]
		f.Confirmations = n
		out[id] = f
	}
	return out
}

// MediatorActivity is what mediators did on disputes in a period.
type MediatorActivity struct {
	// Actions counts each one's events of MediatorActions: by user id,
	// then action.
	Actions map[string]map[string]int
	// Resolutions are their resolve events of the period.
	Resolutions []Resolution
	// FollowUps are the follow-ups of the period on the cases they
	// settled (each case's last resolve before the follow-up is theirs).
	FollowUps []FollowUp
}

// Resolution is one resolve event: who, when, the case's report time, and
// the resolve deadline it met.
type Resolution struct {
	ActorID    string
	ReportedAt time.Time
	At         time.Time
	// Deadline: a resolve deadline was running and this event met it;
	// Breached: that deadline was breached (met after its due time, or
	// marked breached by the overdue scan before).
	Deadline, Breached bool
}

// FollowUp is the satisfaction (1–5) of one follow-up and who had
// settled the case it follows.
type FollowUp struct {
	SettledBy    string
	Satisfaction int
}

// MediatorFigures are a mediator's figures of a period. The pointers are
// nil where there is nothing to take a median, rate or mean of.
type MediatorFigures struct {
	Accepted, Sessions, Settled, Failed, Escalated int
	// MedianDaysToSettle: days from report to resolve event, over the
	// period's resolutions, rounded to hundredths of a day.
	MedianDaysToSettle *float64
	// SettledWithDeadline of the resolutions met a resolve deadline,
	// SettledOnTime of those without a breach; OnTimeRate is the second
	// over the first.
	SettledWithDeadline, SettledOnTime int
	OnTimeRate                         *float64
	// FollowUps of the period on the cases they settled, and their mean
	// satisfaction.
	FollowUps        int
	MeanSatisfaction *float64
}

// Figures are the figures of each mediator with any activity.
func (a MediatorActivity) Figures() map[string]MediatorFigures {
	out := map[string]MediatorFigures{}
	for id, by := range a.Actions {
		f := out[id]
		f.Accepted, f.Sessions, f.Settled = by[Accept], by[RecordSession], by[Resolve]
		f.Failed, f.Escalated = by[Fail], by[Escalate]
		out[id] = f
	}
	days := map[string][]float64{}
	for _, r := range a.Resolutions {
		days[r.ActorID] = append(days[r.ActorID], r.At.Sub(r.ReportedAt).Hours()/24)
		f := out[r.ActorID]
		if r.Deadline {
			f.SettledWithDeadline++
			if !r.Breached {
				f.SettledOnTime++
			}
		}
		out[r.ActorID] = f
	}
	for id, ds := range days {
		f := out[id]
		m := math.Round(Median(ds)*100) / 100
		f.MedianDaysToSettle = &m
		out[id] = f
	}
	sums := map[string]int{}
	for _, u := range a.FollowUps {
		f := out[u.SettledBy]
		f.FollowUps++
		sums[u.SettledBy] += u.Satisfaction
		out[u.SettledBy] = f
	}
	for id, f := range out {
		if f.SettledWithDeadline > 0 {
			r := float64(f.SettledOnTime) / float64(f.SettledWithDeadline)
			f.OnTimeRate = &r
		}
		if f.FollowUps > 0 {
			m := float64(sums[id]) / float64(f.FollowUps)
			f.MeanSatisfaction = &m
		}
		out[id] = f
	}
	return out
}

// Median is the middle of xs (the mean of the two middle values for an
// even count); 0 for none. xs is not changed.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
