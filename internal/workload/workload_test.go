package workload

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"pingan/internal/access"
	"pingan/internal/errs"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{4}, 4},
		{[]float64{3, 1}, 2},
		{[]float64{5, 1, 3}, 3},
		{[]float64{7, 1, 3, 100}, 5},
	} {
		in := slices.Clone(c.xs)
		if got := Median(c.xs); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.xs, got, c.want)
		}
		if !slices.Equal(in, c.xs) {
			t.Errorf("Median changed its input: %v", c.xs)
		}
	}
}

func ptr(x float64) *float64 { return &x }

func TestMediatorFigures(t *testing.T) {
	t0 := time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	a := MediatorActivity{
		Actions: map[string]map[string]int{
			"m1": {Accept: 3, RecordSession: 4, Resolve: 3, Fail: 1, Escalate: 2},
			"m2": {Accept: 1},
		},
		Resolutions: []Resolution{
			{ActorID: "m1", ReportedAt: t0, At: t0.Add(day), Deadline: true},
			{ActorID: "m1", ReportedAt: t0, At: t0.Add(10 * day), Deadline: true, Breached: true},
			{ActorID: "m1", ReportedAt: t0, At: t0.Add(2*day + 8*time.Hour)}, // no deadline ran
			// Settled by someone outside the page's actions (only a follow-up).
			{ActorID: "m3", ReportedAt: t0, At: t0.Add(time.Hour), Deadline: true, Breached: true},
		},
		FollowUps: []FollowUp{{SettledBy: "m1", Satisfaction: 5}, {SettledBy: "m1", Satisfaction: 2}, {SettledBy: "m4", Satisfaction: 4}},
	}
	want := map[string]MediatorFigures{
		// Days 1, 10 and 2⅓: median 2.33; one of the two with a deadline in time.
		"m1": {Accepted: 3, Sessions: 4, Settled: 3, Failed: 1, Escalated: 2, MedianDaysToSettle: ptr(2.33),
			SettledWithDeadline: 2, SettledOnTime: 1, OnTimeRate: ptr(0.5), FollowUps: 2, MeanSatisfaction: ptr(3.5)},
		"m2": {Accepted: 1},
		"m3": {MedianDaysToSettle: ptr(0.04), SettledWithDeadline: 1, OnTimeRate: ptr(0)},
		"m4": {FollowUps: 1, MeanSatisfaction: ptr(4)},
	}
	if got := a.Figures(); !reflect.DeepEqual(got, want) {
		t.Fatalf("figures\n%+v\nwant\n%+v", got, want)
	}
	if got := (MediatorActivity{}).Figures(); len(got) != 0 {
		t.Fatalf("no activity: %v", got)
	}
}

func TestGridWorkerFigures(t *testing.T) {
	a := GridWorkerActivity{Reports: map[string]int{"g1": 4, "g2": 1}, Confirmations: map[string]int{"g1": 2, "g3": 1}}
	want := map[string]GridWorkerFigures{"g1": {Reports: 4, Confirmations: 2}, "g2": {Reports: 1}, "g3": {Confirmations: 1}}
	if got := a.Figures(); !reflect.DeepEqual(got, want) {
		t.Fatalf("figures %v, want %v", got, want)
	}
}

// fakeStore records what the service asked for.
type fakeStore struct {
	people          []Person
	filter          Filter
	gwIDs, medIDs   []string
	start, end      time.Time
	gw              GridWorkerActivity
	med             MediatorActivity
	gwCalls, mCalls int
}

func (f *fakeStore) FindPeople(_ context.Context, fl Filter) ([]Person, error) {
	f.filter = fl
	return f.people, nil
}

func (f *fakeStore) GridWorkerActivity(_ context.Context, ids []string, start, end time.Time) (GridWorkerActivity, error) {
	f.gwCalls++
	f.gwIDs, f.start, f.end = ids, start, end
	return f.gw, nil
}

func (f *fakeStore) MediatorActivity(_ context.Context, ids []string, start, end time.Time) (MediatorActivity, error) {
	f.mCalls++
	f.medIDs, f.start, f.end = ids, start, end
	return f.med, nil
}

var _ Store = (*fakeStore)(nil)

type fakeRegions map[string]string

func (r fakeRegions) FindRegionPath(_ context.Context, code string) (string, error) {
	if p, ok := r[code]; ok {
		return p, nil
	}
	return "", errs.ErrNotFound
}

var (
	shanghai, _ = time.LoadLocation("Asia/Shanghai")
	regions     = fakeRegions{"370500": "/370500/", "370502": "/370500/370502/", "370523": "/370500/370523/"}
	county      = access.Principal{UserID: "s", Role: access.Supervisor, RegionCode: "370502", RegionPath: "/370500/370502/"}
)

func newTestService(st *fakeStore) *Service {
	now := func() time.Time { return time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC) } // 11:00 in Shanghai
	return NewService(st, regions, shanghai, now)
}

func TestWorkloadRows(t *testing.T) {
	st := &fakeStore{
		people: []Person{{ID: "g1", Role: access.GridWorker}, {ID: "g2", Role: access.GridWorker}, {ID: "m1", Role: access.Mediator}},
		gw:     GridWorkerActivity{Reports: map[string]int{"g1": 2}},
		med:    MediatorActivity{Actions: map[string]map[string]int{"m1": {Fail: 1}}},
	}
	after := &Position{Role: access.GridWorker, UserID: "g0"}
	rep, err := newTestService(st).Workload(context.Background(), county, Query{After: after, Limit: 21})
	if err != nil {
		t.Fatal(err)
	}
	// The default period: the first of the month to today, in local days.
	if rep.Period.From != "2026-11-01" || rep.Period.To != "2026-11-27" ||
		!st.start.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, shanghai)) || !st.end.Equal(time.Date(2026, 11, 28, 0, 0, 0, 0, shanghai)) {
		t.Fatalf("period %+v, asked [%v, %v)", rep.Period, st.start, st.end)
	}
	if st.filter.Scope.Code != "370502" || !slices.Equal(st.filter.Roles, Roles) || st.filter.After != after || st.filter.Limit != 21 {
		t.Fatalf("filter %+v", st.filter)
	}
	if !slices.Equal(st.gwIDs, []string{"g1", "g2"}) || !slices.Equal(st.medIDs, []string{"m1"}) {
		t.Fatalf("activity of %v and %v", st.gwIDs, st.medIDs)
	}
	want := []Row{
		{Person: st.people[0], GridWorker: &GridWorkerFigures{Reports: 2}},
		{Person: st.people[1], GridWorker: &GridWorkerFigures{}},
		{Person: st.people[2], Mediator: &MediatorFigures{Failed: 1}},
	}
	if !reflect.DeepEqual(rep.Rows, want) {
		t.Fatalf("rows %+v", rep.Rows)
	}

	// Only mediators asked for: no grid workers' activity is read.
	st = &fakeStore{people: []Person{{ID: "m1", Role: access.Mediator}}}
	if _, err := newTestService(st).Workload(context.Background(), county, Query{Role: "mediator", Limit: 2}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(st.filter.Roles, []access.Role{access.Mediator}) || st.gwCalls != 0 || st.mCalls != 1 {
		t.Fatalf("roles %v, calls %d %d", st.filter.Roles, st.gwCalls, st.mCalls)
	}
}

func TestWorkloadRefuses(t *testing.T) {
	gridWorker := access.Principal{UserID: "g", Role: access.GridWorker, RegionCode: "370502", RegionPath: "/370500/370502/"}
	for _, c := range []struct {
		name   string
		p      access.Principal
		q      Query
		kind   error
		fields []string
	}{
		{"grid worker", gridWorker, Query{}, errs.ErrForbidden, nil},
		{"another county", county, Query{Region: "370523"}, errs.ErrForbidden, nil},
		{"unknown region", county, Query{Region: "999999"}, errs.ErrInvalid, []string{"region"}},
		{"role", county, Query{Role: "supervisor"}, errs.ErrInvalid, []string{"role"}},
		{"role and days", county, Query{Role: "x", From: "2026-11-31", To: "2026-13-01"}, errs.ErrInvalid, []string{"from", "role", "to"}},
		{"to before from", county, Query{From: "2026-11-02", To: "2026-11-01"}, errs.ErrInvalid, []string{"to"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := &fakeStore{}
			_, err := newTestService(st).Workload(context.Background(), c.p, c.q)
			if !errors.Is(err, c.kind) {
				t.Fatalf("error %v, want %v", err, c.kind)
			}
			var fe errs.FieldErrors
			if errors.As(err, &fe) != (c.fields != nil) || (c.fields != nil && !slices.Equal(slices.Sorted(maps.Keys(fe.Fields())), c.fields)) {
				t.Fatalf("error %v, want fields %v", err, c.fields)
			}
			if st.filter.Limit != 0 || st.gwCalls+st.mCalls != 0 {
				t.Fatal("the store was asked")
			}
		})
	}
}
