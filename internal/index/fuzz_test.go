package index

import (
	"math"
	"testing"
)

// bytesource reads a fuzzer's bytes as small choices; past the end it reads 0.
type bytesource []byte

func (b *bytesource) next() byte {
	if len(*b) == 0 {
		return 0
	}
	c := (*b)[0]
	*b = (*b)[1:]
	return c
}

// fuzzInput builds an input from data, valid or not: codes may repeat,
// settings may be out of range, values may be NaN, infinite or negative.
func fuzzInput(data []byte) Input {
	src := bytesource(data)
	var in Input
	ni, nr := 1+int(src.next()%3), int(src.next()%7)
	for r := range nr {
		b := src.next()
		pop := int64(b) * 97
		if b%5 == 0 {
			pop = 0
		}
		in.Regions = append(in.Regions, Region{Code: string(rune('a' + r%6 + int(b%2))), Population: pop})
	}
	for i := range ni {
		b, c := src.next(), src.next()
		ind := Indicator{Code: string(rune('p' + i)), Direction: Negative, Weight: float64(c%5) / 4, PerCapita: b&2 != 0,
			Smoothing: NoSmoothing, Window: 1 + int(b>>5)%3, Alpha: float64(c>>3) / 31, Mapping: LinearMapping,
			MissingIsZero: b&16 != 0}
		if b&1 != 0 {
			ind.Direction = Positive
		}
		if b&4 != 0 {
			ind.Smoothing = EmpiricalBayes
		}
		if b&8 != 0 {
			ind.Mapping, ind.Step = StepMapping, float64(src.next()%60)
		}
		// Floor 0, 20, … 100 (out of range), tolerance 0 to 0.3.
		f := src.next()
		ind.Floor, ind.Tolerance = float64(f%6)*20, float64(f>>3%4)/10
		in.Indicators = append(in.Indicators, ind)
		var series [][]Value
		if src.next()%8 != 0 {
			for range nr {
				if src.next()%9 == 0 {
					series = append(series, nil)
					continue
				}
				s := make([]Value, ind.Window+1)
				for j := range s {
					switch v := src.next(); v {
					case 255:
					case 254:
						s[j] = Known(math.NaN())
					case 253:
						s[j] = Known(math.Inf(1))
					case 252:
						s[j] = Known(-1)
					default:
						s[j] = Known(float64(v%40) / float64(1+v%3))
					}
				}
				series = append(series, s)
			}
		}
		in.Values = append(in.Values, series)
	}
	return in
}

// FuzzScore: Score never panics, and what it returns is in range.
func FuzzScore(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{2, 5, 10, 20, 30, 40, 50, 2, 0x80, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	f.Add([]byte{0, 6, 1, 2, 3, 4, 5, 6, 0x16, 0xff, 1, 1, 0, 0, 255, 255, 3, 3, 2, 1, 0, 9, 9})
	f.Add([]byte{1, 4, 7, 8, 9, 11, 0x2f, 0x44, 30, 1, 1, 2, 254, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := fuzzInput(data)
		res, err := Score(in)
		if err != nil {
			return
		}
		if len(res.Regions) != len(in.Regions) || len(res.Indicators) != len(in.Indicators) {
			t.Fatalf("%d regions, %d indicators", len(res.Regions), len(res.Indicators))
		}
		scored := 0
		for _, rs := range res.Regions {
			if rs.Scored {
				scored++
			}
		}
		inRange := func(x float64) bool { return x >= 0 && x <= 100 }
		above := func(x float64, i int) bool { return x >= in.Indicators[i].Floor && x <= 100 }
		for r, rs := range res.Regions {
			if rs.Scored && (!inRange(rs.Score) || rs.Rank < 1 || rs.Rank > scored || rs.Band != BandOf(rs.Score)) {
				t.Fatalf("region %d: score %v rank %d of %d band %s", r, rs.Score, rs.Rank, scored, rs.Band)
			}
			if !rs.Scored && (rs.Rank != 0 || rs.Band != "") {
				t.Fatalf("region %d unscored: %+v", r, rs)
			}
			missing := 0
			var contributions float64
			for i, c := range rs.Indicators {
				if !c.Present {
					missing++
					continue
				}
				contributions += c.Contribution
				n := res.Indicators[i].Peers
				if c.RankSelf < 1 || c.RankSelf > n || c.RankCross < 1 || c.RankCross > n ||
					!above(c.ScoreSelf, i) || !above(c.ScoreCross, i) || !above(c.Score, i) ||
					math.IsNaN(c.D) || math.IsInf(c.D, 0) || math.IsNaN(c.Mu.X) || math.IsNaN(c.Rate.X) ||
					math.IsInf(c.Rate.X, 0) || math.IsNaN(c.RateSmoothed.X) || math.IsInf(c.RateSmoothed.X, 0) {
					t.Fatalf("region %d indicator %d of %d peers: %+v", r, i, n, c)
				}
			}
			if rs.Complete != (missing == 0) || len(rs.Missing) != missing {
				t.Fatalf("region %d: complete %v missing %v", r, rs.Complete, rs.Missing)
			}
			if rs.Scored && math.Abs(contributions-rs.Score) > 1e-9 || !rs.Scored && contributions != 0 {
				t.Fatalf("region %d: contributions add up to %v, score %v", r, contributions, rs.Score)
			}
		}
	})
}
