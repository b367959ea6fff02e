package report

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// dayStore is a Store and Days in memory: every count of a day is one
// community's, with Seq follow-ups (the how-many-th count it is), so that a
// test sees which count a kept day holds.
type dayStore struct {
	mu        sync.Mutex
	seq       int
	counted   map[string]time.Time
	rows      map[string][]DayCounts
	watermark time.Time
	zone      string
	changes   []CaseChange
	first     time.Time
}

func (s *dayStore) SummaryCounts(_ context.Context, q CountQuery) (map[string]*Counts, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	key := ""
	if q.Child == ChildPlaces {
		key = "370502/370502003/370502003001"
	}
	return map[string]*Counts{key: {FollowUps: s.seq}}, nil
}

func (s *dayStore) SummaryDays(_ context.Context, depth int, regions, kinds []string, from, to string) ([]DayCounts, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []DayCounts
	for d, rows := range s.rows {
		for _, r := range rows {
			if d >= from && d <= to && r.Depth == depth && slices.Contains(regions, r.Region) && slices.Contains(kinds, r.Kind) {
				out = append(out, r)
			}
		}
	}
	return out, nil
}

func (s *dayStore) CountedDays(_ context.Context, from, to string) (map[string]time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]time.Time{}
	for d, at := range s.counted {
		if d >= from && d <= to {
			out[d] = at
		}
	}
	return out, nil
}

func (s *dayStore) SaveSummaryDay(_ context.Context, day string, countedAt time.Time, rows []DayCounts) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if at, ok := s.counted[day]; ok && !at.Before(countedAt) {
		return false, nil
	}
	s.counted[day], s.rows[day] = countedAt, rows
	return true, nil
}

func (s *dayStore) SummaryWatermark(context.Context) (Watermark, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Watermark{At: s.watermark, Zone: s.zone}, nil
}

func (s *dayStore) AdvanceSummaryWatermark(_ context.Context, w Watermark) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.zone == "" {
		s.zone = w.Zone
	}
	if w.Zone == s.zone && w.At.After(s.watermark) {
		s.watermark = w.At
	}
	return nil
}

func (s *dayStore) ResetSummaryDays(_ context.Context, w Watermark) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counted, s.rows, s.watermark, s.zone = map[string]time.Time{}, map[string][]DayCounts{}, w.At, w.Zone
	return nil
}

func (s *dayStore) CasesChangedSince(_ context.Context, since time.Time) ([]CaseChange, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CaseChange
	for _, c := range s.changes {
		if !c.ChangedAt.Before(since) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (s *dayStore) FirstReportedAt(context.Context) (time.Time, bool, error) {
	return s.first, !s.first.IsZero(), nil
}

func (s *dayStore) SummaryOpen(context.Context, int, []string, []string, string) (map[string]OpenCount, error) {
	return map[string]OpenCount{}, nil
}

// keptFollowUps is the follow-ups kept for day at the city level (both
// kinds).
func (s *dayStore) keptFollowUps(day string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.rows[day] {
		if r.Depth == 1 {
			n += r.Counts.FollowUps
		}
	}
	return n
}

// TestCountDays: a run counts the days not counted yet, newest first, and
// at least one day however short its budget; it moves the watermark once
// no counted day is stale; a day with a case changed after its count is
// counted again first, and until then the watermark stays.
func TestCountDays(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 11, 15, 10, 0, 0, 0, loc)
	st := &dayStore{counted: map[string]time.Time{}, rows: map[string][]DayCounts{},
		first: time.Date(2026, 11, 12, 9, 0, 0, 0, loc)}
	svc := NewService(st, tree{}, tree{}, tree{}, loc, func() time.Time { return now })
	if svc.days == nil {
		t.Fatal("a store that keeps days is not used for them")
	}
	svc.budget = 0 // one day a run
	ctx := context.Background()
	run := func() {
		t.Helper()
		if err := svc.CountDays(ctx, ""); err != nil {
			t.Fatal(err)
		}
	}
	days := func() []string {
		var out []string
		for d := range st.counted {
			out = append(out, d)
		}
		slices.Sort(out)
		return out
	}

	run()
	if got := days(); !slices.Equal(got, []string{"2026-11-14"}) {
		t.Fatalf("first run counted %v, want yesterday alone", got)
	}
	if !st.watermark.Equal(now) {
		t.Fatalf("watermark %s after a run with no stale day, want %s", st.watermark, now)
	}
	// Every kind and depth of the day is kept: the city, county, township
	// and community of the one community, for each kind.
	if n := len(st.rows["2026-11-14"]); n != 8 {
		t.Fatalf("%d rows kept for a day, want 8", n)
	}
	if got := st.keptFollowUps("2026-11-14"); got != 1+2 {
		t.Fatalf("city follow-ups %d, want the two kinds' counts 1 + 2", got)
	}
	now = now.Add(time.Minute)
	run()
	run()
	if got := days(); !slices.Equal(got, []string{"2026-11-12", "2026-11-13", "2026-11-14"}) {
		t.Fatalf("three runs counted %v, want every day from the first report to yesterday", got)
	}
	w := st.watermark

	// A case of the 13th changed after its day was counted: the 13th is
	// stale, counted again first; the watermark waits for it.
	// (A change is counted as stale until a count begins Settle after it:
	// its write may not have been committed when a count began sooner.)
	counted13 := st.counted["2026-11-13"]
	now = now.Add(time.Hour)
	st.changes = append(st.changes, CaseChange{ReportedAt: time.Date(2026, 11, 13, 8, 0, 0, 0, loc), ChangedAt: now})
	now = now.Add(Settle + time.Second)
	stale, err := svc.stale(ctx, st.counted, Watermark{At: st.watermark, Zone: st.zone})
	if err != nil || !stale["2026-11-13"] || len(stale) != 1 {
		t.Fatalf("stale days %v (%v), want the 13th", stale, err)
	}
	before := st.keptFollowUps("2026-11-13")
	run()
	if at := st.counted["2026-11-13"]; !at.After(counted13) || st.keptFollowUps("2026-11-13") == before {
		t.Fatalf("the 13th was not counted again (%s, %d follow-ups as before)", at, before)
	}
	if !st.watermark.After(w) {
		t.Fatal("the watermark did not move once the stale day was counted again")
	}
	if stale, _ := svc.stale(ctx, st.counted, Watermark{At: st.watermark, Zone: st.zone}); len(stale) != 0 {
		t.Fatalf("still stale after its count: %v", stale)
	}
	// A change stamped less than Settle before a count began may have been
	// committed after it: its day stays stale.
	st.changes = append(st.changes, CaseChange{ReportedAt: time.Date(2026, 11, 13, 9, 0, 0, 0, loc), ChangedAt: now.Add(-time.Minute)})
	run()
	if stale, _ := svc.stale(ctx, st.counted, Watermark{At: st.watermark, Zone: st.zone}); !stale["2026-11-13"] {
		t.Fatalf("a change a minute before the count: the 13th is not stale (%v)", stale)
	}
	now = now.Add(Settle)
	run()
	if stale, _ := svc.stale(ctx, st.counted, Watermark{At: st.watermark, Zone: st.zone}); len(stale) != 0 {
		t.Fatalf("counted again Settle later, still stale: %v", stale)
	}

	// Two stale days and a budget of one: the first run counts one and
	// keeps the watermark, the second the other and moves it.
	now = now.Add(time.Hour)
	for _, d := range []int{12, 14} {
		st.changes = append(st.changes, CaseChange{ReportedAt: time.Date(2026, 11, d, 8, 0, 0, 0, loc), ChangedAt: now})
	}
	now = now.Add(Settle + time.Second)
	w = st.watermark
	run()
	if !st.watermark.Equal(w) {
		t.Fatalf("the watermark moved to %s with a stale day left", st.watermark)
	}
	run()
	if !st.watermark.After(w) {
		t.Fatal("the watermark did not move once both stale days were counted")
	}
	if stale, _ := svc.stale(ctx, st.counted, Watermark{At: st.watermark, Zone: st.zone}); len(stale) != 0 {
		t.Fatalf("still stale: %v", stale)
	}

	// Another zone: every day is forgotten and counted again in it.
	utc := NewService(st, tree{}, tree{}, tree{}, time.UTC, func() time.Time { return now })
	utc.budget = 0
	if err := utc.CountDays(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if st.zone != "UTC" || len(st.counted) != 1 {
		t.Fatalf("after a change of zone: zone %q, %d days counted, want UTC and the one of this run", st.zone, len(st.counted))
	}
}
