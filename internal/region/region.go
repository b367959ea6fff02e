// Package region holds the administrative tree (city > county > township >
// community > grid) that scopes every read and write (SPEC §4.1, §5).
package region

import (
	"context"
	"strings"

	"pingan/internal/access"
)

// Level is a depth of the tree.
type Level string

// The levels, top down.
const (
	City      Level = "city"
	County    Level = "county"
	Township  Level = "township"
	Community Level = "community"
	Grid      Level = "grid"
)

// Levels lists the levels top down.
var Levels = []Level{City, County, Township, Community, Grid}

// Depth is the position of l in Levels (city 0), or -1 when l is unknown.
func (l Level) Depth() int {
	for i, v := range Levels {
		if v == l {
			return i
		}
	}
	return -1
}

// Valid reports whether l is one of the five levels.
func (l Level) Valid() bool { return l.Depth() >= 0 }

// Child is the level directly below l ("" below grid).
func (l Level) Child() Level {
	d := l.Depth()
	if d < 0 || d+1 >= len(Levels) {
		return ""
	}
	return Levels[d+1]
}

// Point is a WGS-84 coordinate.
type Point struct{ Lat, Lng float64 }

// Region is one node of the tree.
type Region struct {
	Code       string
	Name       string
	Level      Level
	ParentCode string // "" for the root
	// Path is "/" + the codes from the root down to Code + "/", so that the
	// subtree of X is every region whose Path contains "/X/".
	Path       string
	Population int64
	Centroid   *Point
	// Boundary is a GeoJSON Polygon or MultiPolygon geometry, raw.
	Boundary []byte
}

// Contains reports whether other lies in r's subtree (r itself included).
func (r Region) Contains(other Region) bool {
	return strings.HasPrefix(other.Path, r.Path)
}

// Filter selects regions for FindRegions.
type Filter struct {
	// Scope restricts results to the caller's subtree (access.ListScope).
	Scope  access.Scope
	Parent string
	Level  Level
	After  string // keyset cursor: codes greater than this
	Limit  int
}

// Store persists regions. Implemented in internal/store.
type Store interface {
	// Regions gives the path of a region by its code, for the scope rule.
	access.Regions
	// FindRegionByCode returns errs.ErrNotFound if there is no such region.
	FindRegionByCode(ctx context.Context, code string) (Region, error)
	// FindRegions lists regions ordered by code.
	FindRegions(ctx context.Context, f Filter) ([]Region, error)
	// UpsertRegions writes all regions in one transaction, parents before children.
	UpsertRegions(ctx context.Context, rs []Region) error
}
