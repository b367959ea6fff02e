package report

import (
	"context"
	"sync"
	"testing"
	"time"

	"pingan/internal/access"
	"pingan/internal/category"
	"pingan/internal/errs"
	"pingan/internal/region"
)

// partStore answers every count and notes the parts each call asked for
// (the periods are counted side by side).
type partStore struct {
	mu    sync.Mutex
	calls []Parts
}

func (s *partStore) SummaryCounts(_ context.Context, q CountQuery) (map[string]*Counts, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, q.Parts)
	c := &Counts{}
	if q.Parts.Has(PartReported) {
		c.Reported = []Reported{{Kind: "incident", Category: "traffic", Status: "reported", N: len(s.calls)}}
	}
	if q.Parts.Has(PartFacts) {
		c.FollowUps = 7
	}
	return map[string]*Counts{"": c}, nil
}

type tree struct{}

func (tree) FindRegionPath(_ context.Context, code string) (string, error) {
	if code == "370500" {
		return "/370500/", nil
	}
	return "", errs.ErrNotFound
}

func (tree) FindRegion(context.Context, access.Principal, string) (region.Region, error) {
	return region.Region{Code: "370500", Name: "东营市", Level: region.City}, nil
}

func (tree) FindRegions(context.Context, access.Principal, region.Filter) ([]region.Region, error) {
	return nil, nil
}

func (tree) FindCategories(context.Context, category.Kind) ([]category.Category, error) {
	return nil, nil
}

// TestClosedPeriodsKeepTheirFacts: a period that has ended has its figures
// from facts (what happened in it, and the cases open at its end) counted
// once and kept, its reported cases (current status) counted on every
// call; a period still running is counted whole each time.
func TestClosedPeriodsKeepTheirFacts(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 11, 15, 10, 0, 0, 0, loc)
	st := &partStore{}
	svc := NewService(st, tree{}, tree{}, tree{}, loc, func() time.Time { return now })
	sup := access.Principal{UserID: "u", Role: access.Supervisor, RegionCode: "370500", RegionPath: "/370500/"}
	sum := func(q Query) Summary {
		t.Helper()
		s, err := svc.Summary(context.Background(), sup, q)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	october := Query{From: "2026-10-01", To: "2026-10-31"} // and September before it: both ended
	first := sum(october)
	if len(st.calls) != 6 || countParts(st.calls, PartFacts) != 2 || countParts(st.calls, PartOpen) != 2 ||
		countParts(st.calls, PartReported) != 2 {
		t.Fatalf("the first summary asked for %v", st.calls)
	}
	st.calls = nil
	again := sum(october)
	if len(st.calls) != 2 || countParts(st.calls, PartReported) != 2 || countParts(st.calls, PartFacts) != 0 {
		t.Fatalf("the second summary asked for %v, want the reported cases of both periods only", st.calls)
	}
	if first.Current.FollowUps.Count != 7 || again.Current.FollowUps.Count != 7 || again.Previous.FollowUps.Count != 7 {
		t.Fatalf("the kept figures were lost: %+v / %+v", first.Current.FollowUps, again.Current.FollowUps)
	}
	if again.Current.Reported.Total == first.Current.Reported.Total {
		t.Fatalf("the reported cases were not counted again (%d both times)", again.Current.Reported.Total)
	}
	// November runs until the 30th: counted whole, every time.
	st.calls = nil
	sum(Query{})
	sum(Query{})
	if countParts(st.calls, PartReported|PartFacts) != 2 || countParts(st.calls, PartOpen) != 3 {
		t.Fatalf("a running period: %v", st.calls)
	}
}

func countParts(calls []Parts, p Parts) int {
	n := 0
	for _, c := range calls {
		if c == p {
			n++
		}
	}
	return n
}
