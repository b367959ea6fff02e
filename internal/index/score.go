package index

import (
	"cmp"
	"math"
	"slices"
)

// Score computes the index of one level and one period (SPEC §9.4). It
// keeps every intermediate and rounds nothing; equal inputs give
// bit-identical rank keys, so ties are exact. It does not modify in.
//
// Returns an error wrapping errs.ErrInvalid, naming the indicator, region
// or period at fault, when a setting is out of range, a code is empty or
// listed twice, a series has the wrong length, or a value is NaN, infinite,
// negative or above MaxValue.
func Score(in Input) (Result, error) {
	if err := in.validate(); err != nil {
		return Result{}, err
	}
	nr, ni := len(in.Regions), len(in.Indicators)
	res := Result{Regions: make([]RegionScore, nr), Indicators: make([]IndicatorSummary, ni)}
	// One backing array for every region's indicators: two allocations
	// instead of one per region.
	cells := make([]IndicatorScore, nr*ni)
	for r, reg := range in.Regions {
		res.Regions[r] = RegionScore{Code: reg.Code, Indicators: cells[r*ni : (r+1)*ni : (r+1)*ni]}
	}
	w := &work{peers: make([]int32, 0, nr), keys: make([]keyed, 0, nr), ranks: make([]int32, nr)}
	for i := range in.Indicators {
		res.Indicators[i] = w.indicator(in, i, cells)
	}
	w.composite(in, res.Regions)
	return res, nil
}

// work is the scratch space of one Score call, reused by every indicator.
type work struct {
	peers []int32 // the regions with a value for the current indicator
	keys  []keyed // rank keys, one per peer
	ranks []int32 // the rank of each peer, by its position in peers
}

// keyed is a rank key and the position in peers it belongs to.
type keyed struct {
	key float64
	pos int32
}

// indicator scores Indicators[i] for every region, writing column i of cells.
func (w *work) indicator(in Input, i int, cells []IndicatorScore) IndicatorSummary {
	ind, stride := in.Indicators[i], len(in.Indicators)
	series := in.Values[i]
	w.peers = w.peers[:0]
	for r, reg := range in.Regions {
		c := &cells[r*stride+i]
		c.Code = ind.Code
		var s []Value
		if series != nil {
			s = series[r]
		}
		x, ok := current(s, ind)
		if !ok || (ind.PerCapita && reg.Population <= 0) {
			continue
		}
		c.Present, c.Value = true, x
		if ind.PerCapita {
			c.Rate = Known(x * PerResidents / float64(reg.Population))
		}
		c.Mu, c.D = self(s, ind, x)
		w.peers = append(w.peers, int32(r))
	}
	n := len(w.peers)
	sum := IndicatorSummary{Code: ind.Code, Peers: n}
	if n == 0 {
		return sum
	}

	// 自比: at or below its own mean is not penalised, so every such region
	// gets the key +0 and they tie exactly.
	w.keys = w.keys[:0]
	for p, r := range w.peers {
		k := 0.0
		if d := cells[int(r)*stride+i].D; d > 0 {
			k = d
		}
		w.keys = append(w.keys, keyed{k, int32(p)})
	}
	w.rank()
	for p, r := range w.peers {
		c := &cells[int(r)*stride+i]
		c.RankSelf = int(w.ranks[p])
		c.ScoreSelf = ind.points(c.RankSelf, n)
	}

	// 他比: best first, so a positive indicator's key is negated (exactly).
	if ind.Smoothing == EmpiricalBayes {
		sum.CityRate, sum.PriorVariance = w.smooth(in, i, cells)
	}
	w.keys = w.keys[:0]
	for p, r := range w.peers {
		c := &cells[int(r)*stride+i]
		k := c.Value
		switch {
		case c.RateSmoothed.Valid:
			k = c.RateSmoothed.X
		case c.Rate.Valid:
			k = c.Rate.X
		}
		if ind.Direction == Positive {
			k = -k
		}
		w.keys = append(w.keys, keyed{k, int32(p)})
	}
	w.rank()
	for p, r := range w.peers {
		c := &cells[int(r)*stride+i]
		c.RankCross = int(w.ranks[p])
		c.ScoreCross = ind.points(c.RankCross, n)
		c.Score = clamp(ind.Alpha*c.ScoreSelf+(1-ind.Alpha)*c.ScoreCross,
			min(c.ScoreSelf, c.ScoreCross), max(c.ScoreSelf, c.ScoreCross))
	}
	return sum
}

// current is x_t of series s, and whether there is one.
func current(s []Value, ind Indicator) (float64, bool) {
	if s != nil && s[ind.Window].Valid {
		return s[ind.Window].X, true
	}
	return 0, ind.MissingIsZero
}

// self is μ, the mean of the W periods before t, and d, the relative change
// of x against it signed so that positive is worse. Without a period to
// average, μ is absent and d is 0: the region is not penalised for having
// no history.
func self(s []Value, ind Indicator, x float64) (Value, float64) {
	var sum float64
	var count int
	for j := range ind.Window {
		switch {
		case s != nil && s[j].Valid:
			sum += s[j].X
			count++
		case ind.MissingIsZero:
			count++
		}
	}
	if count == 0 {
		return Value{}, 0
	}
	mu := sum / float64(count)
	if ind.Direction == Positive {
		return Known(mu), (mu - x) / max(mu, Epsilon)
	}
	return Known(mu), (x - mu) / max(mu, Epsilon)
}

// smooth writes Marshall's global empirical-Bayes rate of every peer of
// Indicators[i] (SPEC §9.4 step 2), all in units per 10⁴ residents, and
// returns the prior mean m and variance A.
func (w *work) smooth(in Input, i int, cells []IndicatorScore) (m, a Value) {
	stride := len(in.Indicators)
	var sx, sp float64
	for _, r := range w.peers {
		sx += cells[int(r)*stride+i].Value
		sp += float64(in.Regions[r].Population)
	}
	mean := sx * PerResidents / sp
	if mean == 0 {
		// Every rate is 0: so is every smoothed one (A = 0 and the weights
		// would be 0/0).
		for _, r := range w.peers {
			cells[int(r)*stride+i].RateSmoothed = Known(0)
		}
		return Known(0), Known(0)
	}
	var ss float64
	for _, r := range w.peers {
		dev := cells[int(r)*stride+i].Rate.X - mean
		ss += float64(in.Regions[r].Population) * dev * dev
	}
	meanPop := sp / float64(len(w.peers))
	prior := max(0, ss/sp-mean*PerResidents/meanPop)
	for _, r := range w.peers {
		c := &cells[int(r)*stride+i]
		wr := prior / (prior + mean*PerResidents/float64(in.Regions[r].Population))
		c.RateSmoothed = Known(wr*c.Rate.X + (1-wr)*mean)
	}
	return Known(mean), Known(prior)
}

// rank sorts w.keys ascending and gives each peer its competition rank
// (1, 1, 1, 4, 5) in w.ranks. Keys are compared exactly.
func (w *work) rank() {
	slices.SortFunc(w.keys, func(a, b keyed) int { return cmp.Compare(a.key, b.key) })
	for j, k := range w.keys {
		if j > 0 && k.key == w.keys[j-1].key {
			w.ranks[k.pos] = w.ranks[w.keys[j-1].pos]
		} else {
			w.ranks[k.pos] = int32(j + 1)
		}
	}
}

// points maps rank r of n to a score (SPEC §9.4 step 3).
func (ind Indicator) points(r, n int) float64 {
	if ind.Mapping == StepMapping {
		return max(0, 100-float64(r-1)*ind.Step)
	}
	if n == 1 {
		return 100
	}
	return 100 * float64(n-r) / float64(n-1)
}

// composite weights each region's indicator scores into its score, then
// ranks and bands the regions that have one.
func (w *work) composite(in Input, regions []RegionScore) {
	w.keys = w.keys[:0]
	for r := range regions {
		rs := &regions[r]
		var sw, sws float64
		lo, hi := math.Inf(1), math.Inf(-1)
		missing := 0
		for i, c := range rs.Indicators {
			if !c.Present {
				missing++
				continue
			}
			wt := in.Indicators[i].Weight
			if wt == 0 {
				continue
			}
			sw += wt
			sws += wt * c.Score
			lo, hi = min(lo, c.Score), max(hi, c.Score)
		}
		rs.Complete = missing == 0
		if missing > 0 {
			rs.Missing = make([]string, 0, missing)
			for _, c := range rs.Indicators {
				if !c.Present {
					rs.Missing = append(rs.Missing, c.Code)
				}
			}
		}
		if sw > 0 {
			rs.Scored = true
			// A weighted mean lies between its terms; the clamp keeps
			// rounding from moving it out (all 100 is exactly 100).
			rs.Score = clamp(sws/sw, lo, hi)
			rs.Band = BandOf(rs.Score)
			w.keys = append(w.keys, keyed{-rs.Score, int32(r)})
		}
	}
	w.rank()
	for _, k := range w.keys {
		regions[k.pos].Rank = int(w.ranks[k.pos])
	}
}

func clamp(x, lo, hi float64) float64 { return min(max(x, lo), hi) }
