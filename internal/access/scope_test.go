package access

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"pingan/internal/errs"
)

// paths is a small region tree: 东营市 with two counties.
type paths map[string]string

func (p paths) FindRegionPath(_ context.Context, code string) (string, error) {
	if path, ok := p[code]; ok {
		return path, nil
	}
	return "", fmt.Errorf("region %s: %w", code, errs.ErrNotFound)
}

var tree = paths{
	"370500":          "/370500/",
	"370502":          "/370500/370502/",
	"370502003":       "/370500/370502/370502003/",
	"370502003001":    "/370500/370502/370502003/370502003001/",
	"370502003001001": "/370500/370502/370502003/370502003001/370502003001001/",
	"370502003001002": "/370500/370502/370502003/370502003001/370502003001002/",
	"370523":          "/370500/370523/",
}

func TestListScope(t *testing.T) {
	city := Principal{UserID: "u-city", Role: Supervisor, RegionCode: "370500", RegionPath: "/370500/"}
	county := Principal{UserID: "u-county", Role: Admin, RegionCode: "370502", RegionPath: tree["370502"]}
	gw := Principal{UserID: "u-gw", Role: GridWorker, RegionCode: "370502003001001", RegionPath: tree["370502003001001"]}
	none := Principal{UserID: "u-none", Role: Mediator}
	for _, c := range []struct {
		name  string
		p     Principal
		asked string
		want  Scope
		fail  error
		all   bool
	}{
		{"the city: everything", city, "", Scope{Path: "/370500/", Code: "370500", Depth: CityDepth}, nil, true},
		{"the city narrows to a county", city, "370523", Scope{Path: "/370500/370523/", Code: "370523", Depth: CountyDepth}, nil, false},
		{"a county: its subtree", county, "", Scope{Path: tree["370502"], Code: "370502", Depth: CountyDepth}, nil, false},
		{"a county narrows to a community", county, "370502003001",
			Scope{Path: tree["370502003001"], Code: "370502003001", Depth: CommunityDepth}, nil, false},
		{"a county asks for its neighbour", county, "370523", Scope{}, errs.ErrForbidden, false},
		{"a county asks for the city", county, "370500", Scope{}, errs.ErrForbidden, false},
		// Codes are not secret: an unknown one is named so (400), not
		// taken for one outside the scope.
		{"an unknown region", county, "370599", Scope{}, errs.ErrInvalid, false},
		{"a code too long to be one", county, strings.Repeat("3", 1<<20), Scope{}, errs.ErrInvalid, false},
		{"a grid worker: their grid and own reports", gw, "",
			Scope{Path: tree["370502003001001"], Code: "370502003001001", Depth: GridDepth, Grid: "370502003001001", Reporter: "u-gw"}, nil, false},
		{"a grid worker narrows to their grid", gw, "370502003001001",
			Scope{Path: tree["370502003001001"], Code: "370502003001001", Depth: GridDepth}, nil, false},
		{"a grid worker asks for another grid", gw, "370502003001002", Scope{}, errs.ErrForbidden, false},
		{"a grid worker asks for their community", gw, "370502003001", Scope{}, errs.ErrForbidden, false},
		{"no scope at all", none, "", Scope{}, errs.ErrForbidden, false},
		{"the system", System, "", Scope{Path: "/", Depth: 0}, nil, true},
	} {
		got, err := ListScope(context.Background(), tree, c.p, c.asked)
		if c.fail != nil {
			if !errors.Is(err, c.fail) {
				t.Errorf("%s: %+v, %v; want %v", c.name, got, err, c.fail)
			}
			continue
		}
		if err != nil || got != c.want || got.Everything() != c.all {
			t.Errorf("%s: %+v (everything %v), %v; want %+v (everything %v)", c.name, got, got.Everything(), err, c.want, c.all)
		}
	}
}

// TestListScopeNamesItsParameter: an unknown region is blamed on the
// parameter the list names it by.
func TestListScopeNamesItsParameter(t *testing.T) {
	county := Principal{UserID: "u-county", Role: Admin, RegionCode: "370502", RegionPath: tree["370502"]}
	for _, param := range []string{"region", "parent"} {
		_, err := ListScopeOf(context.Background(), tree, county, param, "999999")
		var fe errs.FieldErrors
		if !errors.As(err, &fe) || fe[param] != "unknown region" || len(fe) != 1 {
			t.Errorf("%s: %v; want %s: unknown region", param, err, param)
		}
	}
}

func TestCheckCase(t *testing.T) {
	inFuqian := Case{Kind: "dispute", ID: "d1", ReporterID: "u-gw2",
		Place: PlaceOf("/370500/370502/370502003/370502003001/370502003001002/")}
	if inFuqian.Place != (Place{County: "370502", Township: "370502003", Community: "370502003001", Grid: "370502003001002"}) {
		t.Fatalf("PlaceOf = %+v", inFuqian.Place)
	}
	ownElsewhere := Case{Kind: "incident", ID: "i1", ReporterID: "u-gw", Place: PlaceOf("/370500/370523/370523101/370523101001/370523101001001/")}
	for _, c := range []struct {
		name string
		p    Principal
		c    Case
		sees bool
	}{
		{"the city", Principal{Role: Supervisor, RegionCode: "370500", RegionPath: "/370500/"}, inFuqian, true},
		{"its county", Principal{Role: Mediator, RegionCode: "370502", RegionPath: "/370500/370502/"}, inFuqian, true},
		{"its township", Principal{Role: Mediator, RegionCode: "370502003", RegionPath: "/370500/370502/370502003/"}, inFuqian, true},
		{"its community", Principal{Role: Mediator, RegionCode: "370502003001", RegionPath: "/370500/370502/370502003/370502003001/"}, inFuqian, true},
		{"another county", Principal{Role: Admin, RegionCode: "370523", RegionPath: "/370500/370523/"}, inFuqian, false},
		{"a grid worker of its grid", Principal{UserID: "u-x", Role: GridWorker, RegionCode: "370502003001002"}, inFuqian, true},
		{"a grid worker of the next grid", Principal{UserID: "u-gw", Role: GridWorker, RegionCode: "370502003001001"}, inFuqian, false},
		{"a grid worker's own report in another county", Principal{UserID: "u-gw", Role: GridWorker, RegionCode: "370502003001001"}, ownElsewhere, true},
		{"a mediator does not see their own report outside their scope", Principal{UserID: "u-gw", Role: Mediator, RegionCode: "370502", RegionPath: "/370500/370502/"}, ownElsewhere, false},
		{"no scope", Principal{Role: Admin}, inFuqian, false},
	} {
		if got := c.p.SeesCase(c.c); got != c.sees {
			t.Errorf("%s: SeesCase = %v, want %v", c.name, got, c.sees)
		}
		err := c.p.CheckCase(c.c)
		if c.sees != (err == nil) || (err != nil && !errors.Is(err, errs.ErrNotFound)) {
			t.Errorf("%s: CheckCase = %v", c.name, err)
		}
	}
}

func TestScopeHolds(t *testing.T) {
	county := Scope{Path: "/370500/370502/", Code: "370502", Depth: CountyDepth}
	gw := Scope{Path: tree["370502003001001"], Code: "370502003001001", Depth: GridDepth, Grid: "370502003001001", Reporter: "u"}
	for _, c := range []struct {
		name string
		s    Scope
		path string
		want bool
	}{
		{"the whole tree", Scope{Path: "/370500/", Code: "370500", Depth: CityDepth}, "/370500/370523/", true},
		{"the county itself", county, "/370500/370502/", true},
		{"below the county", county, tree["370502003001"], true},
		{"the next county", county, "/370500/370523/", false},
		{"a code that only begins alike", county, "/370500/3705021/", false},
		{"the city above", county, "/370500/", false},
		{"a grid worker's grid", gw, tree["370502003001001"], true},
		{"a grid worker's community", gw, tree["370502003001"], false},
		{"no scope holds nothing", Scope{Depth: GridDepth}, "/370500/", false},
	} {
		if got := c.s.Holds(c.path); got != c.want {
			t.Errorf("%s: Holds(%s) = %v", c.name, c.path, got)
		}
	}
}
