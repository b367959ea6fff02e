// Package intake holds the checks every new report passes, whatever kind of
// case it opens (an incident or a dispute, SPEC §4.3): the grid it belongs
// to, its location — well formed, and plausible (place.go: in the city and
// near its grid) —, its time window and its photo ids; and the formats of
// the personal data people give (person.go: phone and ID numbers), which
// accounts use too. Both case services call these, so a rule of a report
// is written once.
package intake

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"pingan/internal/access"
	"pingan/internal/category"
	"pingan/internal/errs"
	"pingan/internal/region"
	"pingan/internal/text"
)

// Limits of what a report may carry.
const (
	// MaxPhotos bounds the photos of a report or of one dispute action.
	MaxPhotos = 9
	// MaxBackdate is how far in the past occurred_at (and a phone's
	// client_created_at) may lie: offline phones queue reports for days,
	// not years.
	MaxBackdate = 90 * 24 * time.Hour
	// ClockSkew tolerates phone clocks slightly ahead of the server.
	ClockSkew = 10 * time.Minute
	// MaxAddress bounds a location's address, in characters.
	MaxAddress = 255
	// MaxText bounds a description, a note or a reason, in characters.
	MaxText = 2000
)

// Categories finds a category by kind and code (category.Store satisfies it).
type Categories interface {
	// FindCategory returns errs.ErrNotFound if there is none.
	FindCategory(ctx context.Context, kind category.Kind, code string) (category.Category, error)
}

// CheckCategory adds "category" to bad when code is not an active category
// of the kind. Returns the store's error when it cannot tell.
func CheckCategory(ctx context.Context, categories Categories, bad errs.FieldErrors, kind category.Kind, code string) error {
	c, err := categories.FindCategory(ctx, kind, code)
	switch {
	case errors.Is(err, errs.ErrNotFound) || (err == nil && !c.Active):
		bad.Add("category", fmt.Sprintf("not an active %s category", kind))
	case err != nil:
		return err
	}
	return nil
}

// CheckText adds to bad under field when s is longer than MaxText
// characters (leading and trailing space aside), holds control characters
// other than line breaks and tabs, or is blank while required.
func CheckText(bad errs.FieldErrors, field, s string, required bool) {
	n := utf8.RuneCountInString(strings.TrimSpace(s))
	if (required && n == 0) || n > MaxText || !text.Clean(s, true) {
		what := fmt.Sprintf("at most %d characters, no control characters", MaxText)
		if required {
			what = "required, " + what
		}
		bad.Add(field, what)
	}
}

// Location is where a case happened: a point (both or neither of Lat and
// Lng, in degrees WGS 84) and an address.
type Location struct {
	Lat, Lng *float64
	Address  string
}

// Report is what every new case carries, whatever its kind.
type Report struct {
	Location        Location
	OccurredAt      time.Time
	ClientCreatedAt *time.Time
	PhotoIDs        []string
}

// Check adds to bad every field of r that is wrong at the server's time
// now: location, occurred_at, client_created_at, photo_ids.
func (r Report) Check(bad errs.FieldErrors, now time.Time) {
	loc := r.Location
	if (loc.Lat == nil) != (loc.Lng == nil) {
		bad.Add("location", "lat and lng go together")
	} else if loc.Lat != nil && (math.IsNaN(*loc.Lat) || math.IsNaN(*loc.Lng) ||
		*loc.Lat < -90 || *loc.Lat > 90 || *loc.Lng < -180 || *loc.Lng > 180) {
		bad.Add("location", "lat within ±90, lng within ±180")
	}
	if utf8.RuneCountInString(loc.Address) > MaxAddress || !text.Clean(loc.Address, false) {
		bad.Add("location.address", fmt.Sprintf("at most %d characters, no control characters", MaxAddress))
	}
	if r.OccurredAt.IsZero() {
		// Missing, or 0001-01-01T00:00:00Z, which decodes the same.
		bad.Add("occurred_at", "required: an RFC 3339 time with offset within the last 90 days, e.g. 2026-11-27T09:30:00+08:00")
	} else if !InWindow(r.OccurredAt, now) {
		bad.Add("occurred_at", "must not be in the future or more than 90 days ago")
	}
	if c := r.ClientCreatedAt; c != nil && !InWindow(*c, now) {
		bad.Add("client_created_at", "must not be in the future or more than 90 days ago")
	}
	CheckPhotos(bad, "photo_ids", r.PhotoIDs)
}

// InWindow reports whether a time a phone gave lies in the window a report
// accepts at the server's time now: at most MaxBackdate ago and at most
// ClockSkew ahead.
func InWindow(t, now time.Time) bool {
	return !t.After(now.Add(ClockSkew)) && !t.Before(now.Add(-MaxBackdate))
}

// CheckPhotos adds to bad under field when ids are more than MaxPhotos or
// are not distinct upload ids.
func CheckPhotos(bad errs.FieldErrors, field string, ids []string) {
	if len(ids) > MaxPhotos {
		bad.Add(field, fmt.Sprintf("at most %d photos", MaxPhotos))
		return
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if _, err := uuid.Parse(id); err != nil || seen[id] {
			bad.Add(field, "photo ids must be distinct upload ids")
			return
		}
		seen[id] = true
	}
}

// Grid is the grid a report belongs to: a grid worker's own grid when code
// is empty, otherwise the grid named, which must lie in p's subtree.
// Returns errs.FieldErrors for a missing or malformed code or a region that
// is not a grid, and errs.ErrForbidden for one outside p's scope (or
// unknown).
func Grid(ctx context.Context, regions region.Store, p access.Principal, code string) (region.Region, error) {
	if code == "" {
		if p.Role != access.GridWorker {
			return region.Region{}, errs.Invalid("region_code", "required: the grid where it happened")
		}
		code = p.RegionCode
	}
	if !region.ValidCode(code) {
		return region.Region{}, errs.Invalid("region_code", "not a region code")
	}
	r, err := regions.FindRegionByCode(ctx, code)
	if errors.Is(err, errs.ErrNotFound) {
		return region.Region{}, errs.Invalid("region_code", "unknown region")
	}
	if err == nil && !p.Covers(r.Path) {
		return region.Region{}, fmt.Errorf("region %s is outside your scope: %w", code, errs.ErrForbidden)
	}
	if err != nil {
		return region.Region{}, err
	}
	if r.Level != region.Grid {
		return region.Region{}, errs.Invalid("region_code", "must be a grid")
	}
	return r, nil
}
