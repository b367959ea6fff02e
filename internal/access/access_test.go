package access

import (
	"errors"
	"testing"

	"pingan/internal/errs"
)

func TestScopeRules(t *testing.T) {
	city := Principal{Role: Supervisor, RegionCode: "370500", RegionPath: "/370500/"}
	county := Principal{Role: Supervisor, RegionCode: "370502", RegionPath: "/370500/370502/"}
	nobody := Principal{Role: Admin}
	for _, c := range []struct {
		name     string
		p        Principal
		path     string
		covers   bool
		cityWide bool
	}{
		{"city sees a grid", city, "/370500/370523/370523101/370523101001/370523101001001/", true, true},
		{"county sees its own", county, "/370500/370502/370502003/", true, false},
		{"county sees itself", county, "/370500/370502/", true, false},
		{"county not its neighbour", county, "/370500/370523/", false, false},
		{"county not a prefix-alike code", county, "/370500/3705020/", false, false},
		{"county not the city", county, "/370500/", false, false},
		{"no scope sees nothing", nobody, "/370500/", false, false},
		{"the system sees all", System, "/370500/370502/", true, true},
	} {
		if got := c.p.Covers(c.path); got != c.covers {
			t.Errorf("%s: Covers = %v", c.name, got)
		}
		if got := c.p.CityWide(); got != c.cityWide {
			t.Errorf("%s: CityWide = %v", c.name, got)
		}
		objErr, filterErr := c.p.CheckObject("region", "x", c.path), c.p.CheckFilter("x", c.path)
		if c.covers && (objErr != nil || filterErr != nil) {
			t.Errorf("%s: refused: %v / %v", c.name, objErr, filterErr)
		}
		if !c.covers && (!errors.Is(objErr, errs.ErrNotFound) || !errors.Is(filterErr, errs.ErrForbidden)) {
			t.Errorf("%s: object %v (want not found), filter %v (want forbidden)", c.name, objErr, filterErr)
		}
	}
	if !county.Is(Mediator, Supervisor) || county.Is(Admin) || Role("king").Valid() || !GridWorker.Valid() {
		t.Fatal("role checks")
	}
}
