package intake

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"pingan/internal/access"
	"pingan/internal/category"
	"pingan/internal/errs"
	"pingan/internal/region"
)

// occurredRequired is the message of a missing (or year 1) occurred_at.
const occurredRequired = "required: an RFC 3339 time with offset within the last 90 days, e.g. 2026-11-27T09:30:00+08:00"

func TestReportCheck(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	f := func(v float64) *float64 { return &v }
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	photo := "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
	ok := Report{Location: Location{Lat: f(37.45), Lng: f(118.58), Address: "府前社区3号楼"}, OccurredAt: now.Add(-time.Hour)}
	for _, c := range []struct {
		name string
		edit func(r *Report)
		want errs.FieldErrors
	}{
		{"a good report", func(r *Report) {}, errs.FieldErrors{}},
		{"no point at all is allowed", func(r *Report) { r.Location = Location{} }, errs.FieldErrors{}},
		{"lat without lng", func(r *Report) { r.Location.Lng = nil }, errs.FieldErrors{"location": "lat and lng go together"}},
		{"lat out of range", func(r *Report) { r.Location.Lat = f(90.5) }, errs.FieldErrors{"location": "lat within ±90, lng within ±180"}},
		{"lng out of range", func(r *Report) { r.Location.Lng = f(-180.1) }, errs.FieldErrors{"location": "lat within ±90, lng within ±180"}},
		{"not a number", func(r *Report) { r.Location.Lng = f(math.NaN()) }, errs.FieldErrors{"location": "lat within ±90, lng within ±180"}},
		{"an address of 255 characters", func(r *Report) { r.Location.Address = strings.Repeat("路", 255) }, errs.FieldErrors{}},
		{"an address of 256 characters", func(r *Report) { r.Location.Address = strings.Repeat("路", 256) },
			errs.FieldErrors{"location.address": "at most 255 characters, no control characters"}},
		{"a control character in the address", func(r *Report) { r.Location.Address = "a\x00b" },
			errs.FieldErrors{"location.address": "at most 255 characters, no control characters"}},
		{"no occurred_at", func(r *Report) { r.OccurredAt = time.Time{} }, errs.FieldErrors{"occurred_at": occurredRequired}},
		{"occurred exactly 90 days ago", func(r *Report) { r.OccurredAt = now.Add(-MaxBackdate) }, errs.FieldErrors{}},
		{"occurred 90 days and a second ago", func(r *Report) { r.OccurredAt = now.Add(-MaxBackdate - time.Second) },
			errs.FieldErrors{"occurred_at": "must not be in the future or more than 90 days ago"}},
		{"a phone clock 10 minutes ahead", func(r *Report) { r.OccurredAt = now.Add(ClockSkew) }, errs.FieldErrors{}},
		{"11 minutes ahead", func(r *Report) { r.OccurredAt = now.Add(11 * time.Minute) },
			errs.FieldErrors{"occurred_at": "must not be in the future or more than 90 days ago"}},
		{"client_created_at in the window", func(r *Report) { r.ClientCreatedAt = ago(24 * time.Hour) }, errs.FieldErrors{}},
		{"client_created_at too old", func(r *Report) { r.ClientCreatedAt = ago(91 * 24 * time.Hour) },
			errs.FieldErrors{"client_created_at": "must not be in the future or more than 90 days ago"}},
		{"nine photos", func(r *Report) { r.PhotoIDs = distinctIDs(9) }, errs.FieldErrors{}},
		{"ten photos", func(r *Report) { r.PhotoIDs = distinctIDs(10) }, errs.FieldErrors{"photo_ids": "at most 9 photos"}},
		{"a repeated photo", func(r *Report) { r.PhotoIDs = []string{photo, photo} },
			errs.FieldErrors{"photo_ids": "photo ids must be distinct upload ids"}},
		{"not an id", func(r *Report) { r.PhotoIDs = []string{"../etc/passwd"} },
			errs.FieldErrors{"photo_ids": "photo ids must be distinct upload ids"}},
		{"everything wrong at once", func(r *Report) {
			r.Location.Lat, r.OccurredAt, r.ClientCreatedAt, r.PhotoIDs = nil, time.Time{}, ago(-time.Hour), []string{"x"}
		}, errs.FieldErrors{"location": "lat and lng go together", "occurred_at": occurredRequired,
			"client_created_at": "must not be in the future or more than 90 days ago", "photo_ids": "photo ids must be distinct upload ids"}},
	} {
		r := ok
		c.edit(&r)
		bad := errs.FieldErrors{}
		r.Check(bad, now)
		if !reflect.DeepEqual(bad, c.want) {
			t.Errorf("%s: %v, want %v", c.name, bad, c.want)
		}
	}
}

func distinctIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a%02x", i)
	}
	return out
}

// regions is a tree of one county, one grid and one community.
type regions map[string]region.Region

func (rs regions) FindRegionByCode(_ context.Context, code string) (region.Region, error) {
	if r, ok := rs[code]; ok {
		return r, nil
	}
	return region.Region{}, fmt.Errorf("region %s: %w", code, errs.ErrNotFound)
}
func (rs regions) FindRegionPath(ctx context.Context, code string) (string, error) {
	r, err := rs.FindRegionByCode(ctx, code)
	return r.Path, err
}
func (regions) FindRegions(context.Context, region.Filter) ([]region.Region, error) { return nil, nil }
func (regions) UpsertRegions(context.Context, []region.Region) error                { return nil }

func TestGrid(t *testing.T) {
	tree := regions{
		"370502003001":    {Code: "370502003001", Level: region.Community, Path: "/370500/370502/370502003/370502003001/"},
		"370502003001001": {Code: "370502003001001", Level: region.Grid, Path: "/370500/370502/370502003/370502003001/370502003001001/"},
		"370523101001001": {Code: "370523101001001", Level: region.Grid, Path: "/370500/370523/370523101/370523101001/370523101001001/"},
	}
	gw := access.Principal{Role: access.GridWorker, RegionCode: "370502003001001", RegionPath: tree["370502003001001"].Path}
	county := access.Principal{Role: access.Mediator, RegionCode: "370502", RegionPath: "/370500/370502/"}
	for _, c := range []struct {
		name string
		p    access.Principal
		code string
		want string // the grid, or the error: "field:<name>" or "forbidden"
	}{
		{"a grid worker's own grid by default", gw, "", "370502003001001"},
		{"a grid worker names their grid", gw, "370502003001001", "370502003001001"},
		{"a mediator must name it", county, "", "field:region_code"},
		{"a grid in scope", county, "370502003001001", "370502003001001"},
		{"a community is not a grid", county, "370502003001", "field:region_code"},
		{"not a code", county, "37/05", "field:region_code"},
		{"a grid of another county", county, "370523101001001", "forbidden"},
		{"an unknown grid: 400, not 403 (SPEC §6: the error says what is wrong)", county, "370502003001099", "field:region_code"},
	} {
		r, err := Grid(context.Background(), tree, c.p, c.code)
		var fe errs.FieldErrors
		switch {
		case strings.HasPrefix(c.want, "field:"):
			if !errors.As(err, &fe) || fe[strings.TrimPrefix(c.want, "field:")] == "" {
				t.Errorf("%s: %v, want a field error on %s", c.name, err, c.want)
			}
		case c.want == "forbidden":
			if !errors.Is(err, errs.ErrForbidden) {
				t.Errorf("%s: %v, want ErrForbidden", c.name, err)
			}
		case err != nil || r.Code != c.want:
			t.Errorf("%s: %v %v, want %s", c.name, r.Code, err, c.want)
		}
	}
}

type categoryList map[string]bool // code → active

func (c categoryList) FindCategory(_ context.Context, kind category.Kind, code string) (category.Category, error) {
	if code == "broken" {
		return category.Category{}, errors.New("database gone")
	}
	active, ok := c[code]
	if !ok {
		return category.Category{}, fmt.Errorf("category %s: %w", code, errs.ErrNotFound)
	}
	return category.Category{Kind: kind, Code: code, Active: active}, nil
}

func TestCheckCategoryAndText(t *testing.T) {
	cats := categoryList{"fire": true, "retired": false}
	for _, c := range []struct {
		code, want string
		fails      bool
	}{
		{"fire", "", false},
		{"retired", "not an active incident category", false},
		{"unknown", "not an active incident category", false},
		{"broken", "", true},
	} {
		bad := errs.FieldErrors{}
		err := CheckCategory(context.Background(), cats, bad, category.Incident, c.code)
		if (err != nil) != c.fails || bad["category"] != c.want {
			t.Errorf("category %s: %v %v", c.code, bad, err)
		}
	}
	const msg, optional = "required, at most 2000 characters, no control characters", "at most 2000 characters, no control characters"
	for _, c := range []struct {
		s        string
		required bool
		want     string
	}{
		{"楼上漏水", true, ""},
		{"  ", true, msg},
		{"", false, ""},
		{strings.Repeat("水", 2000), true, ""},
		{" " + strings.Repeat("水", 2000) + "\n", true, ""},
		{strings.Repeat("水", 2001), false, optional},
		{"第一行\n第二行\t", true, ""},
		{"bell\a", true, msg},
	} {
		bad := errs.FieldErrors{}
		CheckText(bad, "notes", c.s, c.required)
		if bad["notes"] != c.want {
			t.Errorf("text %.20q (required %v): %q, want %q", c.s, c.required, bad["notes"], c.want)
		}
	}
}
