package warning

import (
	"context"
	"fmt"
	"math"

	"pingan/internal/indicator"
	"pingan/internal/region"
)

// RedBandRun is how many months running a region must be in the red band
// for a formal warning (SPEC §10.2: 预警通报).
const RedBandRun = 3

// Rank falls (SPEC §10.2): at least RankFallPlaces places month on month,
// and at community level at least RankFallShare of the peers.
const (
	RankFallPlaces = 3
	RankFallShare  = 0.10
)

// detectIndex raises the red-band and rank-fall warnings of a month's
// index, at every level it ranks.
func (s *Service) detectIndex(ctx context.Context, month string) error {
	months := make([]string, RedBandRun) // oldest first, month last
	for i := range months {
		months[i] = indicator.Shift(indicator.Month, month, i-RedBandRun+1, s.loc)
	}
	for _, level := range []region.Level{region.County, region.Township, region.Community} {
		results := make([]map[string]Result, len(months))
		for i, m := range months {
			rows, err := s.index.MonthResults(ctx, level, m)
			if err != nil {
				return err
			}
			results[i] = map[string]Result{}
			for _, r := range rows {
				results[i][r.RegionCode] = r
			}
		}
		latest := results[len(results)-1]
		if len(latest) == 0 {
			continue // the month has not been computed yet
		}
		regions, err := s.regions.FindRegionsAt(ctx, level)
		if err != nil {
			return err
		}
		peers := 0
		for _, r := range latest {
			if r.Rank > 0 {
				peers++
			}
		}
		places := RankFallPlaces
		if level == region.Community {
			places = max(1, int(math.Ceil(RankFallShare*float64(peers))))
		}
		for _, r := range regions {
			if err := s.redBand(ctx, r, months, results); err != nil {
				return err
			}
			if err := s.rankFall(ctx, r, months, results, peers, places); err != nil {
				return err
			}
		}
	}
	return nil
}

func figures(code string, months []string, results []map[string]Result) []PeriodFigure {
	out := make([]PeriodFigure, len(months))
	for i, m := range months {
		r := results[i][code]
		out[i] = PeriodFigure{Period: m, Score: r.Score, Band: r.Band, Rank: r.Rank}
	}
	return out
}

func (s *Service) redBand(ctx context.Context, r region.Region, months []string, results []map[string]Result) error {
	for i := range months {
		if res, ok := results[i][r.Code]; !ok || res.Rank == 0 || res.Band != "red" {
			return nil
		}
	}
	last := results[len(results)-1][r.Code]
	w := Warning{Kind: KindRedBand, RegionCode: r.Code, RegionPath: r.Path, Level: string(r.Level),
		PeriodKind: indicator.Month, FirstDay: months[len(months)-1], LastDay: months[len(months)-1], Severity: Red,
		Detail: Detail{Periods: figures(r.Code, months, results)}}
	if last.Score != nil {
		w.Observed = *last.Score
	}
	w.Summary = fmt.Sprintf("%s 平安指数连续 %d 个月处于红色区间 (%s 为 %.1f 分)", r.Name, RedBandRun, w.LastDay, w.Observed)
	return s.raise(ctx, w)
}

func (s *Service) rankFall(ctx context.Context, r region.Region, months []string, results []map[string]Result,
	peers, places int) error {
	n := len(months)
	before, ok1 := results[n-2][r.Code]
	now, ok2 := results[n-1][r.Code]
	if !ok1 || !ok2 || before.Rank == 0 || now.Rank == 0 || now.Rank-before.Rank < places {
		return nil
	}
	w := Warning{Kind: KindRankFall, RegionCode: r.Code, RegionPath: r.Path, Level: string(r.Level),
		PeriodKind: indicator.Month, FirstDay: months[n-1], LastDay: months[n-1], Severity: Yellow,
		Observed: float64(now.Rank), Expected: num(float64(before.Rank)), Threshold: num(float64(places)),
		Detail: Detail{Periods: figures(r.Code, months[n-2:], results[n-2:]), Peers: peers}}
	w.Summary = fmt.Sprintf("%s 平安指数排名由第 %d 位降至第 %d 位 (%s, 共 %d 个)", r.Name, before.Rank, now.Rank, months[n-1], peers)
	return s.raise(ctx, w)
}
