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
	w := &work{peers: make([]int32, 0, nr), col: make([]IndicatorScore, 0, nr),
		keys: make([]keyed, 0, nr), spare: make([]keyed, 0, nr), ranks: make([]int32, nr)}
	for i := range in.Indicators {
		var err error
		if res.Indicators[i], err = w.indicator(in, i, cells); err != nil {
			return Result{}, err
		}
	}
	w.composite(in, res.Regions)
	return res, nil
}

// work is the scratch space of one Score call, reused by every indicator.
type work struct {
	peers []int32          // the regions with a value for the current indicator
	col   []IndicatorScore // their scores, by position in peers, until copied into the result
	keys  []keyed          // rank keys, one per peer
	spare []keyed          // the radix sort's other buffer
	ranks []int32          // the rank of each peer, by its position in peers
}

// keyed is a rank key, as orderBits, and the position it belongs to.
type keyed struct {
	bits uint64
	pos  int32
}

// indicator scores Indicators[i] for every region, writing column i of
// cells. The peers' scores are worked out in the compact w.col and copied
// out once: the column of cells is strided, a cache miss per touch. It
// fails only on a bad series.
func (w *work) indicator(in Input, i int, cells []IndicatorScore) (IndicatorSummary, error) {
	ind, stride := in.Indicators[i], len(in.Indicators)
	series := in.Values[i]
	w.peers, w.col = w.peers[:0], w.col[:0]
	for r, reg := range in.Regions {
		var s []Value
		if series != nil {
			s = series[r]
		}
		x, past, count, present, bad := read(s, ind.Window, ind.MissingIsZero)
		if bad {
			return IndicatorSummary{}, badValue(s, &ind, reg.Code)
		}
		if !present || (ind.PerCapita && reg.Population <= 0) {
			continue
		}
		c := IndicatorScore{Present: true, Value: x, Weight: ind.Weight}
		if ind.PerCapita {
			c.Rate = Known(x * PerResidents / float64(reg.Population))
		}
		c.Mu, c.D = self(past, count, ind.Direction == Positive, x)
		w.peers, w.col = append(w.peers, int32(r)), append(w.col, c)
	}
	n := len(w.peers)
	sum := IndicatorSummary{Code: ind.Code, Peers: n}
	if n == 0 {
		return sum, nil
	}

	// 自比: the key is d⁺ = d when d > τ, else 0. Every region at or
	// below its own mean, or above it by at most τ, has d⁺ = 0 exactly and
	// ranks 1; only the others need sorting, and they rank after them.
	w.keys = w.keys[:0]
	for p := range w.col {
		if d := w.col[p].D; d > ind.Tolerance {
			w.keys = append(w.keys, keyed{orderBits(d), int32(p)})
		} else {
			w.ranks[p] = 1
		}
	}
	w.rank(int32(n - len(w.keys)))
	for p := range w.col {
		c := &w.col[p]
		c.RankSelf = int(w.ranks[p])
		c.ScoreSelf = ind.points(c.RankSelf, n)
	}

	// 他比: best first, so a positive indicator's key is negated (exactly).
	if ind.Smoothing == EmpiricalBayes {
		sum.CityRate, sum.PriorVariance = w.smooth(in.Regions)
	}
	w.keys = w.keys[:0]
	for p := range w.col {
		c := &w.col[p]
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
		w.keys = append(w.keys, keyed{orderBits(k), int32(p)})
	}
	w.rank(0)
	for p, r := range w.peers {
		c := &w.col[p]
		c.RankCross = int(w.ranks[p])
		c.ScoreCross = ind.points(c.RankCross, n)
		c.Score = clamp(ind.Alpha*c.ScoreSelf+(1-ind.Alpha)*c.ScoreCross,
			min(c.ScoreSelf, c.ScoreCross), max(c.ScoreSelf, c.ScoreCross))
		cells[int(r)*stride+i] = *c
	}
	return sum, nil
}

// read takes in one pass what scoring needs from a series: x_t (present
// tells whether there is one), and the sum and number of the W values
// before it that count toward μ. bad is true when the series has not W+1
// values or a value is not a number from 0 to MaxValue; badValue says which.
func read(s []Value, window int, missingIsZero bool) (x, sum float64, count int, present, bad bool) {
	if s == nil {
		if missingIsZero {
			return 0, 0, window, true, false
		}
		return 0, 0, 0, false, false
	}
	if len(s) != window+1 {
		return 0, 0, 0, false, true
	}
	for _, v := range s[:window] {
		if v.Valid {
			if !(v.X >= 0 && v.X <= MaxValue) {
				return 0, 0, 0, false, true
			}
			sum += v.X
			count++
		}
	}
	if missingIsZero {
		count = window
	}
	last := s[window]
	if !last.Valid {
		return 0, sum, count, missingIsZero, false
	}
	if !(last.X >= 0 && last.X <= MaxValue) {
		return 0, 0, 0, false, true
	}
	return last.X, sum, count, true, false
}

// self is μ, the mean of the counted periods before t, and d, the relative
// change of x against it, signed so that positive is worse. Without a
// period to average, μ is absent and d is 0: the region is not penalised
// for having no history.
func self(sum float64, count int, positive bool, x float64) (Value, float64) {
	if count == 0 {
		return Value{}, 0
	}
	mu := sum / float64(count)
	if positive {
		return Known(mu), (mu - x) / max(mu, Epsilon)
	}
	return Known(mu), (x - mu) / max(mu, Epsilon)
}

// smooth writes Marshall's global empirical-Bayes rate of every peer in
// w.col (SPEC §9.4 step 2), all in units per 10⁴ residents, and returns the
// prior mean m and variance A.
func (w *work) smooth(regions []Region) (m, a Value) {
	var sx, sp float64
	for p, r := range w.peers {
		sx += w.col[p].Value
		sp += float64(regions[r].Population)
	}
	mean := sx * PerResidents / sp
	if mean == 0 {
		// Every rate is 0: so is every smoothed one (A = 0 and the weights
		// would be 0/0).
		for p := range w.col {
			w.col[p].RateSmoothed = Known(0)
		}
		return Known(0), Known(0)
	}
	var ss float64
	for p, r := range w.peers {
		dev := w.col[p].Rate.X - mean
		ss += float64(regions[r].Population) * dev * dev
	}
	meanPop := sp / float64(len(w.peers))
	prior := max(0, ss/sp-mean*PerResidents/meanPop)
	for p, r := range w.peers {
		c := &w.col[p]
		// A denominator of 0 is possible only when A = 0 and m underflows
		// in the quotient (denormal values): full shrinkage, not 0/0.
		wr := 0.0
		if den := prior + mean*PerResidents/float64(regions[r].Population); den > 0 {
			wr = prior / den
		}
		c.RateSmoothed = Known(wr*c.Rate.X + (1-wr)*mean)
	}
	return Known(mean), Known(prior)
}

// rank gives each key's position its competition rank (1, 1, 1, 4, 5) in
// w.ranks, after the ahead positions ranked before them. Keys are compared
// exactly.
func (w *work) rank(ahead int32) {
	sorted := w.sortKeys()
	for j, k := range sorted {
		if j > 0 && k.bits == sorted[j-1].bits {
			w.ranks[k.pos] = w.ranks[sorted[j-1].pos]
		} else {
			w.ranks[k.pos] = ahead + int32(j) + 1
		}
	}
}

// sortKeys sorts the keys by bits and returns them, in w.keys or w.spare
// (which it swaps). It radix-sorts on the high 32 bits, a byte a pass,
// skipping the bytes every key shares, then orders the runs that share the
// high half by the whole key: linear in the number of keys, and several
// times faster than a comparison sort at 2 000 (BenchmarkScore2000x8).
func (w *work) sortKeys() []keyed {
	n := len(w.keys)
	if n < 2 {
		return w.keys
	}
	var counts [4][256]int32
	for _, k := range w.keys {
		counts[0][byte(k.bits>>32)]++
		counts[1][byte(k.bits>>40)]++
		counts[2][byte(k.bits>>48)]++
		counts[3][byte(k.bits>>56)]++
	}
	src, dst := w.keys, w.spare[:n]
	for d := range 4 {
		c := &counts[d]
		shift := 32 + 8*d
		if c[byte(src[0].bits>>shift)] == int32(n) {
			continue
		}
		var sum int32
		for i, v := range c {
			c[i], sum = sum, sum+v
		}
		for _, k := range src {
			b := byte(k.bits >> shift)
			dst[c[b]] = k
			c[b]++
		}
		src, dst = dst, src
	}
	w.keys, w.spare = src, dst[:0]
	for lo := 0; lo < n; {
		hi := lo + 1
		for hi < n && src[hi].bits>>32 == src[lo].bits>>32 {
			hi++
		}
		if hi-lo > 1 {
			sortRun(src[lo:hi])
		}
		lo = hi
	}
	return src
}

// sortRun sorts keys that share their high 32 bits by their whole bits:
// by insertion when the run is short (the usual case: equal keys), else by
// a comparison sort.
func sortRun(run []keyed) {
	if len(run) > 32 {
		slices.SortFunc(run, func(a, b keyed) int { return cmp.Compare(a.bits, b.bits) })
		return
	}
	for i := 1; i < len(run); i++ {
		k := run[i]
		j := i
		for j > 0 && run[j-1].bits > k.bits {
			run[j] = run[j-1]
			j--
		}
		run[j] = k
	}
}

// orderBits maps a float64 that is not NaN to a uint64 with the same order;
// -0 and +0 map alike, so that they tie.
func orderBits(f float64) uint64 {
	if f == 0 {
		f = 0
	}
	b := math.Float64bits(f)
	if b>>63 != 0 {
		return ^b
	}
	return b | 1<<63
}

// points maps rank r of n to a score above the floor F (SPEC §9.4 step
// 3). With F = 0 the linear score is exactly the float of 100·(n−r)/(n−1).
func (ind Indicator) points(r, n int) float64 {
	if ind.Mapping == StepMapping {
		return max(ind.Floor, 100-float64(r-1)*ind.Step)
	}
	if n == 1 {
		return 100
	}
	return ind.Floor + (100-ind.Floor)*float64(n-r)/float64(n-1)
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
			for i, c := range rs.Indicators {
				if !c.Present {
					rs.Missing = append(rs.Missing, in.Indicators[i].Code)
				}
			}
		}
		if sw > 0 {
			rs.Scored = true
			// A weighted mean lies between its terms; the clamp keeps
			// rounding from moving it out (all 100 is exactly 100).
			rs.Score = clamp(sws/sw, lo, hi)
			rs.Band = BandOf(rs.Score)
			w.keys = append(w.keys, keyed{orderBits(-rs.Score), int32(r)})
			// Each term's share of the composite: they add up to it.
			for i := range rs.Indicators {
				if c := &rs.Indicators[i]; c.Present {
					c.Contribution = c.Weight * c.Score / sw
				}
			}
		}
	}
	w.rank(0)
	for _, k := range w.keys {
		regions[k.pos].Rank = int(w.ranks[k.pos])
	}
}

func clamp(x, lo, hi float64) float64 { return min(max(x, lo), hi) }
