package heatmap

import (
	"context"
	"testing"
	"time"

	"pingan/internal/access"
	"pingan/internal/category"
	"pingan/internal/errs"
	"pingan/internal/region"
)

// countingStore answers every count with the same cells and counts the
// calls.
type countingStore struct{ calls int }

func (s *countingStore) CountCells(context.Context, Filter) ([]Count, error) {
	s.calls++
	return []Count{{Key: "wwshs1", N: 4}, {Key: "wwshs2", N: 1}, {Key: "wwshs3", N: 2}}, nil
}

func (s *countingStore) CountCommunities(context.Context, Filter) ([]Count, error) {
	s.calls++
	return nil, nil
}

func (s *countingStore) FindCommunities(context.Context, access.Scope) ([]region.Region, error) {
	return nil, nil
}

type paths map[string]string

func (p paths) FindRegionPath(_ context.Context, code string) (string, error) {
	if path, ok := p[code]; ok {
		return path, nil
	}
	return "", errs.ErrNotFound
}

type noCategories struct{}

func (noCategories) FindCategories(context.Context, category.Kind) ([]category.Category, error) {
	return nil, nil
}

// TestClosedPeriodsAreCached: the cells of a period that has ended are read
// once per filter and answered from memory after; a period still running
// is read every time.
func TestClosedPeriodsAreCached(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 11, 15, 10, 0, 0, 0, loc)
	st := &countingStore{}
	svc := NewService(st, paths{"370500": "/370500/", "370502": "/370500/370502/"}, noCategories{}, 3, loc,
		func() time.Time { return now })
	sup := access.Principal{UserID: "u", Role: access.Supervisor, RegionCode: "370500", RegionPath: "/370500/"}
	find := func(q Query) Map {
		t.Helper()
		m, err := svc.Find(context.Background(), sup, q)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	october := Query{From: "2026-10-01", To: "2026-10-31"}
	first := find(october)
	again := find(october)
	if st.calls != 1 {
		t.Fatalf("a closed period read %d times, want once", st.calls)
	}
	if len(first.Cells) != 2 || first.Total != 7 || again.Total != first.Total || len(again.Cells) != len(first.Cells) ||
		again.Cells[0] != first.Cells[0] || again.Cells[1] != first.Cells[1] {
		t.Fatalf("the cached map differs: %+v, then %+v", first, again)
	}
	// Another filter (region, precision, kind) is another entry.
	find(Query{From: "2026-10-01", To: "2026-10-31", Region: "370502"})
	find(Query{From: "2026-10-01", To: "2026-10-31", Precision: "7"})
	find(Query{From: "2026-10-01", To: "2026-10-31", Kind: "dispute"})
	if st.calls != 4 {
		t.Fatalf("%d reads for four filters", st.calls)
	}
	// This month (it runs until the 30th), and a period ending today, are
	// read each time.
	find(Query{})
	find(Query{})
	find(Query{From: "2026-11-01", To: "2026-11-15"})
	find(Query{From: "2026-11-01", To: "2026-11-15"})
	if st.calls != 8 {
		t.Fatalf("%d reads: a running period was answered from the cache", st.calls)
	}
	// Yesterday has ended.
	find(Query{From: "2026-11-14", To: "2026-11-14"})
	find(Query{From: "2026-11-14", To: "2026-11-14"})
	if st.calls != 9 {
		t.Fatalf("%d reads: yesterday was read twice", st.calls)
	}
}
