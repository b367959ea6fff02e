// Package heatmap is the dispute heat map of SPEC §11.2 (矛盾纠纷热力图): the
// cases reported in a period counted per geohash cell, with the small-cell
// rule that keeps a map from pointing at one family's door, and the same
// counts per community with rates per 10⁴ residents for a choropleth.
package heatmap

import (
	"context"
	"time"

	"github.com/mmcloughlin/geohash"

	"pingan/internal/access"
	"pingan/internal/region"
)

// StoredPrecision is the length of the geohash a case keeps (a cell of about
// 38 m × 19 m): the finest a map may ask for, every coarser cell a prefix.
const StoredPrecision = 8

// MinPrecision, MaxPrecision and DefaultPrecision bound the cells a map asks
// for: from about 4.9 km × 4.9 km (5) down to StoredPrecision.
const (
	MinPrecision     = 5
	MaxPrecision     = StoredPrecision
	DefaultPrecision = 6
)

// DefaultMinCount is PINGAN_HEATMAP_MIN_COUNT when it is not set: a cell
// holding fewer cases is never shown on its own.
const DefaultMinCount = 3

// Geohash is the geohash a case at (lat, lng) keeps: StoredPrecision
// characters, "" when the case has no location.
func Geohash(lat, lng *float64) string {
	if lat == nil || lng == nil {
		return ""
	}
	return geohash.EncodeWithPrecision(*lat, *lng, StoredPrecision)
}

// Kinds are the case kinds a map counts, as the query names them.
var Kinds = []string{"incident", "dispute"}

// Filter is what the store counts: the cases of Kinds reported in
// [Start, End) in Scope, of Category when it is set.
type Filter struct {
	Scope      access.Scope
	Kinds      []string
	Category   string
	Start, End time.Time
	// Precision is the length of the geohash prefix the cells are counted by.
	Precision int
}

// Count is the number of cases under one key: a geohash prefix ("" for
// the cases without a location) or a community code.
type Count struct {
	Key string
	N   int
}

// Store counts cases for the maps. Implemented in internal/store.
type Store interface {
	// CountCells counts f's cases per geohash prefix of f.Precision
	// characters, the cases without a location under "".
	CountCells(ctx context.Context, f Filter) ([]Count, error)
	// CountCommunities counts f's cases per community code.
	CountCommunities(ctx context.Context, f Filter) ([]Count, error)
	// FindCommunities lists the communities in scope by code, with their
	// population and imported boundary.
	FindCommunities(ctx context.Context, scope access.Scope) ([]region.Region, error)
}

// Cell is one cell shown on the map: a geohash of the precision asked for,
// or of one less for a parent holding merged small cells (then Count is of
// its cases outside the cells shown at the precision asked for).
type Cell struct {
	Geohash string
	Count   int
}

// Box is the cell's extent, as the geohash library decodes it.
func (c Cell) Box() geohash.Box { return geohash.BoundingBox(c.Geohash) }

// Community is one community of a by-region map.
type Community struct {
	Code, Name string
	Count      int
	Population int64
	// RatePer10k is Count ÷ Population × 10 000; nil when Population is 0.
	RatePer10k *float64
	// Boundary is the imported GeoJSON geometry, raw; nil when none was.
	Boundary []byte
}

// Map is a heat map: the query as it was read, and either Cells (by cell)
// or Communities (by region).
type Map struct {
	Region   string // the code of the region the map covers
	From, To string // local days, both included
	Kind     string // "" for both
	Category string // "" for all
	// Precision is the cells' precision; 0 for a map by region.
	Precision   int
	ByRegion    bool
	Cells       []Cell
	Communities []Community
	// Total is every case the filter selects: the cells' counts plus
	// Suppressed plus Unlocated (by cell), or the communities' counts plus
	// Unlisted (by region).
	Total int
	// Suppressed counts the cases in small cells whose parent still fell
	// short of the minimum; Unlocated the cases without a location.
	Suppressed, Unlocated int
	// Unlisted counts the cases of communities that are not in the region
	// tree (none unless the tree was re-imported without them).
	Unlisted int
}
