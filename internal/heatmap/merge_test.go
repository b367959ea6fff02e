package heatmap

import (
	"reflect"
	"testing"
)

func TestMerge(t *testing.T) {
	for _, c := range []struct {
		name                  string
		counts                []Count
		min                   int
		cells                 []Cell
		suppressed, unlocated int
	}{
		{name: "nothing", min: 3},
		{name: "a lone case is never a cell", counts: []Count{{"wwe0a1b2", 1}}, min: 3, suppressed: 1},
		{name: "a lone case with min 2", counts: []Count{{"wwe0a1b2", 1}}, min: 2, suppressed: 1},
		{name: "at the minimum a cell shows", counts: []Count{{"wwe0a1b2", 3}}, min: 3, cells: []Cell{{"wwe0a1b2", 3}}},
		{
			name:   "small siblings merge into their parent",
			counts: []Count{{"wwe0a1b2", 1}, {"wwe0a1b3", 1}, {"wwe0a1bz", 1}, {"wwe0a1c0", 2}},
			min:    3, cells: []Cell{{"wwe0a1b", 3}}, suppressed: 2,
		},
		{
			name:   "a parent counts only the cases outside its shown children",
			counts: []Count{{"wwe0a1b2", 5}, {"wwe0a1b3", 2}, {"wwe0a1b4", 1}, {"", 4}},
			min:    3, cells: []Cell{{"wwe0a1b", 3}, {"wwe0a1b2", 5}}, unlocated: 4,
		},
		{
			name:   "one level only: parents short of the minimum are not merged further",
			counts: []Count{{"wwe0a1b2", 2}, {"wwe0a1c2", 2}, {"wwe0a1d2", 4}},
			min:    3, cells: []Cell{{"wwe0a1d2", 4}}, suppressed: 4,
		},
		{
			name:   "parents first, then the cells asked for, each by geohash",
			counts: []Count{{"wwe0b", 7}, {"wwe0c", 1}, {"wwe0d", 2}, {"wwe1a", 1}, {"wwe1b", 1}, {"wwe1c", 1}, {"wwe0a", 3}},
			min:    3, cells: []Cell{{"wwe0", 3}, {"wwe1", 3}, {"wwe0a", 3}, {"wwe0b", 7}},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			cells, suppressed, unlocated := Merge(c.counts, c.min)
			if !reflect.DeepEqual(cells, c.cells) || suppressed != c.suppressed || unlocated != c.unlocated {
				t.Fatalf("got %v, suppressed %d, unlocated %d; want %v, %d, %d", cells, suppressed, unlocated,
					c.cells, c.suppressed, c.unlocated)
			}
			total := suppressed + unlocated
			for _, cell := range cells {
				total += cell.Count
			}
			want := 0
			for _, n := range c.counts {
				want += n.N
			}
			if total != want {
				t.Fatalf("the map holds %d cases of %d", total, want)
			}
		})
	}
}
