package index

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// communityInput is a month at community level as SPEC §13.1 sizes it:
// 2 000 communities and the 8 default indicators (six per-capita counts
// with empirical Bayes, two rates), W = 6, a few values missing.
func communityInput(regionCount int) Input {
	rng := rand.New(rand.NewPCG(1, 2))
	in := Input{}
	for r := range regionCount {
		in.Regions = append(in.Regions, Region{Code: fmt.Sprintf("3705%08d", r), Population: 1000 + rng.Int64N(20000)})
	}
	weights := []float64{0.20, 0.15, 0.15, 0.10, 0.15, 0.10, 0.10, 0.05}
	for i, w := range weights {
		ind := count(fmt.Sprintf("ind%d", i), w)
		ind.Smoothing, ind.MissingIsZero = EmpiricalBayes, i != 6
		if i == 4 || i == 7 { // the settlement rate and satisfaction
			ind.Direction, ind.PerCapita, ind.Smoothing, ind.MissingIsZero = Positive, false, NoSmoothing, false
		}
		in.Indicators = append(in.Indicators, ind)
		series := make([][]Value, regionCount)
		for r := range series {
			s := make([]Value, ind.Window+1)
			for j := range s {
				switch {
				case rng.IntN(50) == 0: // missing
				case ind.PerCapita:
					s[j] = Known(float64(rng.IntN(12)))
				default:
					s[j] = Known(rng.Float64())
				}
			}
			series[r] = s
		}
		in.Values = append(in.Values, series)
	}
	return in
}

// BenchmarkScore2000x8 is the in-memory scoring of SPEC §13.1 (target ≤ 5 ms).
func BenchmarkScore2000x8(b *testing.B) {
	in := communityInput(2000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Score(in); err != nil {
			b.Fatal(err)
		}
	}
}
