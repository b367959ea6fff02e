// Package access says who is acting and what they may reach: the roles of
// SPEC §5 and the region-scope rule every domain service applies to single
// objects and lists.
package access

import (
	"fmt"
	"strings"

	"pingan/internal/errs"
)

// Role is what an account may do (SPEC §5).
type Role string

// The roles.
const (
	GridWorker Role = "grid_worker"
	Mediator   Role = "mediator"
	Supervisor Role = "supervisor"
	Admin      Role = "admin"
)

// Department is not a role of accounts but of a department's system
// pushing index data with a service account's API key (SPEC §9.3).
const Department Role = "department"

// Roles lists every role of accounts.
var Roles = []Role{GridWorker, Mediator, Supervisor, Admin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, v := range Roles {
		if v == r {
			return true
		}
	}
	return false
}

// Principal is the authenticated caller.
type Principal struct {
	UserID   string
	Username string
	Role     Role
	// RegionCode is the root of the caller's scope; RegionPath its path
	// ("/370500/370502/").
	RegionCode string
	RegionPath string
	// Indicators are what a Department principal may enter; nil for people.
	Indicators []string
}

// Covers reports whether a region with the given path lies in the caller's
// subtree.
func (p Principal) Covers(path string) bool {
	return p.RegionPath != "" && strings.HasPrefix(path, p.RegionPath)
}

// Is reports whether the caller has one of roles.
func (p Principal) Is(roles ...Role) bool {
	for _, r := range roles {
		if p.Role == r {
			return true
		}
	}
	return false
}

// CityWide reports whether the caller's scope is the whole tree (the city,
// or the system itself).
func (p Principal) CityWide() bool {
	return len(strings.FieldsFunc(p.RegionPath, func(r rune) bool { return r == '/' })) <= 1 && p.RegionPath != ""
}

// CheckObject is the object-level rule: an object outside the caller's
// subtree does not exist for them. Returns errs.ErrNotFound.
func (p Principal) CheckObject(kind, id, path string) error {
	if !p.Covers(path) {
		return fmt.Errorf("%s %s: %w", kind, id, errs.ErrNotFound)
	}
	return nil
}

// CheckFilter is the list rule: asking for a region outside the subtree is
// refused. Returns errs.ErrForbidden.
func (p Principal) CheckFilter(code, path string) error {
	if !p.Covers(path) {
		return fmt.Errorf("region %s is outside your scope: %w", code, errs.ErrForbidden)
	}
	return nil
}

// System is the principal of the command line and of start-up jobs: an
// admin whose scope is the whole tree.
var System = Principal{UserID: "system", Username: "system", Role: Admin, RegionPath: "/"}
