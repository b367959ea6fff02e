package index

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRankMatchesDefinition checks the radix ranking against the definition
// of competition ranking, rank = 1 + the number of keys strictly below, on
// keys built to hit its corners: exact ties, -0 and +0, negative keys,
// neighbouring floats that share their high 32 bits, in short and long runs.
func TestRankMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for trial := range 300 {
		n := 1 + rng.IntN(300)
		keys := make([]float64, n)
		for i := range keys {
			switch rng.IntN(6) {
			case 0:
				keys[i] = float64(rng.IntN(4)) // exact ties
			case 1:
				keys[i] = math.Copysign(0, -1)
			case 2:
				keys[i] = -rng.Float64() * 100
			case 3: // neighbours of 0.3: same high 32 bits, a long run when n is large
				keys[i] = math.Float64frombits(math.Float64bits(0.3) + uint64(rng.IntN(40)))
			default:
				keys[i] = rng.Float64() * 50
			}
		}
		w := &work{keys: make([]keyed, 0, n), spare: make([]keyed, 0, n), ranks: make([]int32, n)}
		for i, k := range keys {
			w.keys = append(w.keys, keyed{orderBits(k), int32(i)})
		}
		w.rank(0)
		for i, k := range keys {
			want := 1
			for _, o := range keys {
				if o < k {
					want++
				}
			}
			if int(w.ranks[i]) != want {
				t.Fatalf("trial %d: key %v ranks %d, want %d", trial, k, w.ranks[i], want)
			}
		}
	}
}

func TestOrderBits(t *testing.T) {
	xs := []float64{math.Inf(-1), -1e300, -2, -1, -math.SmallestNonzeroFloat64, 0, math.SmallestNonzeroFloat64, 1e-9, 1,
		math.Nextafter(1, 2), 2, 1e300, math.Inf(1)}
	for i := 1; i < len(xs); i++ {
		if orderBits(xs[i-1]) >= orderBits(xs[i]) {
			t.Errorf("orderBits(%v) ≥ orderBits(%v)", xs[i-1], xs[i])
		}
	}
	if orderBits(math.Copysign(0, -1)) != orderBits(0) {
		t.Error("-0 and +0 differ")
	}
}
