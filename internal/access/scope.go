package access

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"pingan/internal/errs"
)

// This file is the one scope rule of SPEC §5 for lists and cases. Every
// list — incidents, disputes, the audit log, users, regions, and the
// reports, heat maps, exports and warnings built on them — asks ListScope
// for its condition, and the store turns that Scope into SQL in one place
// (store.applyScope); every single case is checked by CheckCase.

// Regions finds the path of a region by its code. Implemented by the store
// (cached).
type Regions interface {
	// FindRegionPath returns the region's path ("/370500/370502/"), or
	// errs.ErrNotFound if there is no such region.
	FindRegionPath(ctx context.Context, code string) (string, error)
}

// Depths of the region tree: the city is 1, a grid 5. A scope's depth picks
// the column a case list compares (county_code … region_code).
const (
	CityDepth      = 1
	CountyDepth    = 2
	TownshipDepth  = 3
	CommunityDepth = 4
	GridDepth      = 5
)

// Scope is the condition a list applies: rows whose region lies in the
// subtree of Path (code Code, at depth Depth), or — a grid worker's own
// view — rows in grid Grid or reported by Reporter. The zero Scope, and
// any scope of depth 1 without Reporter, is the whole tree.
type Scope struct {
	Path  string
	Code  string
	Depth int
	// Grid and Reporter are set together, for a grid worker who asked for
	// no region: their grid and their own reports anywhere.
	Grid, Reporter string
}

// Everything reports whether the scope is the whole tree (no condition).
func (s Scope) Everything() bool { return s.Reporter == "" && s.Depth <= CityDepth }

// Holds reports whether a region with the given path lies in the scope:
// the rule store.applyScope puts into SQL, for lists filtered in memory
// (rankings, whose ranks are city-wide). A grid worker's scope holds their
// grid.
func (s Scope) Holds(path string) bool {
	return s.Everything() || (s.Path != "" && strings.HasPrefix(path, s.Path))
}

// Depth is the number of codes in a region path: the city is 1.
func Depth(path string) int {
	return len(strings.FieldsFunc(path, func(r rune) bool { return r == '/' }))
}

// subtree is the scope of everything under path.
func subtree(code, path string) Scope {
	return Scope{Path: path, Code: code, Depth: Depth(path)}
}

// ListScope is the scope of a list for p, narrowed to the region asked for
// in the parameter "region" ("" for p's whole scope). A grid worker who asks
// for no region sees their grid and their own reports; one who asks may ask
// for their grid only. Returns errs.FieldErrors naming "region" when asked
// names no region, and errs.ErrForbidden when it lies outside p's scope.
func ListScope(ctx context.Context, regions Regions, p Principal, asked string) (Scope, error) {
	return ListScopeOf(ctx, regions, p, "region", asked)
}

// maxCodeLen bounds a region code; a longer one names no region and is not
// looked up.
const maxCodeLen = 32

// ListScopeOf is ListScope for a list that names the region asked for in
// the parameter param (the region tree and the rankings call it "parent").
// Region codes are not secret, so an unknown one is said to be unknown
// (400) rather than outside the scope (403): only a region that exists can
// be out of reach.
func ListScopeOf(ctx context.Context, regions Regions, p Principal, param, asked string) (Scope, error) {
	if asked == "" {
		if p.Role == GridWorker {
			s := subtree(p.RegionCode, p.RegionPath)
			s.Grid, s.Reporter = p.RegionCode, p.UserID
			return s, nil
		}
		if p.RegionPath == "" {
			return Scope{}, fmt.Errorf("you have no scope: %w", errs.ErrForbidden)
		}
		return subtree(p.RegionCode, p.RegionPath), nil
	}
	if len(asked) > maxCodeLen {
		return Scope{}, errs.Invalid(param, "unknown region")
	}
	path, err := regions.FindRegionPath(ctx, asked)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return Scope{}, errs.Invalid(param, "unknown region")
	case err != nil:
		return Scope{}, err
	case !p.Covers(path) || (p.Role == GridWorker && asked != p.RegionCode):
		return Scope{}, fmt.Errorf("region %s is outside your scope: %w", asked, errs.ErrForbidden)
	}
	return subtree(asked, path), nil
}

// Place is where a case lies: the code of its grid and of each region
// above it. Both case kinds keep these codes on their rows, so that a list
// in any region's subtree is one indexed equality.
type Place struct {
	County, Township, Community, Grid string
}

// PlaceOf reads the codes of a grid's path ("/city/county/township/community/grid/").
func PlaceOf(gridPath string) Place {
	var codes [GridDepth]string
	for i, code := range strings.Split(strings.Trim(gridPath, "/"), "/") {
		if i < len(codes) {
			codes[i] = code
		}
	}
	return Place{County: codes[1], Township: codes[2], Community: codes[3], Grid: codes[4]}
}

// Case is what the object check needs to know of a case.
type Case struct {
	Kind, ID string
	Place
	ReporterID string
}

// SeesCase is the read rule of SPEC §5 for one case: a grid worker sees
// their own reports and their grid; everyone else the cases in their
// subtree (which keeps an escalated case readable by the levels below).
func (p Principal) SeesCase(c Case) bool {
	if p.Role == GridWorker {
		return c.ReporterID == p.UserID || c.Grid == p.RegionCode
	}
	if p.CityWide() {
		return true
	}
	switch p.RegionCode {
	case "":
		return false
	case c.County, c.Township, c.Community, c.Grid:
		return true
	}
	return false
}

// CheckCase returns errs.ErrNotFound when p may not see c: a case outside
// the caller's sight does not exist for them.
func (p Principal) CheckCase(c Case) error {
	if !p.SeesCase(c) {
		return fmt.Errorf("%s %s: %w", c.Kind, c.ID, errs.ErrNotFound)
	}
	return nil
}
