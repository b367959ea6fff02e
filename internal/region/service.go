package region

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"time"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/deps"
	"pingan/internal/errs"
)

// Service applies the scope rule to region reads and admin imports.
type Service struct {
	store Store
	log   audit.Log
	now   func() time.Time
}

// NewService builds the service over store. Every dependency is required;
// a nil one panics, naming it.
func NewService(store Store, log audit.Log, now func() time.Time) *Service {
	deps.Require("region.NewService", "store", store, "log", log, "now", now)
	return &Service{store: store, log: log, now: now}
}

// codePattern: GB/T 2260 style digits, extended by communities and grids;
// letters are allowed in the extension for sites with their own grid codes.
var codePattern = regexp.MustCompile(`^[0-9][0-9A-Za-z]{5,31}$`)

// ValidCode reports whether code is a well-formed region code.
func ValidCode(code string) bool { return codePattern.MatchString(code) }

// FindRegion returns the region if it lies in p's scope. Returns
// errs.ErrNotFound otherwise, whether or not it exists.
func (s *Service) FindRegion(ctx context.Context, p access.Principal, code string) (Region, error) {
	if !ValidCode(code) {
		return Region{}, fmt.Errorf("region %q: %w", code, errs.ErrNotFound)
	}
	r, err := s.store.FindRegionByCode(ctx, code)
	if err != nil {
		return Region{}, err
	}
	if err := p.CheckObject("region", code, r.Path); err != nil {
		return Region{}, err
	}
	return r, nil
}

// FindName returns the name of the region with the code, "" when there is
// none. It answers one code at a time and lists nothing: exports name the
// places of the cases a caller already sees (their county, township,
// community and grid), and a grid worker sees their own reports in other
// grids and under ancestors outside their scope. A region's name and code
// are no secret (the scope rule answers "unknown region" for codes too).
func (s *Service) FindName(ctx context.Context, code string) (string, error) {
	if !ValidCode(code) {
		return "", nil
	}
	r, err := s.store.FindRegionByCode(ctx, code)
	if errors.Is(err, errs.ErrNotFound) {
		return "", nil
	}
	return r.Name, err
}

// FindRegions lists regions in p's scope. Returns errs.ErrForbidden when
// f.Parent is outside it.
func (s *Service) FindRegions(ctx context.Context, p access.Principal, f Filter) ([]Region, error) {
	if f.Parent != "" {
		if _, err := access.ListScopeOf(ctx, s.store, p, "parent", f.Parent); err != nil {
			return nil, err
		}
	}
	var err error
	if f.Scope, err = access.ListScope(ctx, s.store, p, ""); err != nil {
		return nil, err
	}
	return s.store.FindRegions(ctx, f)
}

// Import reads a GeoJSON FeatureCollection (see ParseFeatureCollection) and
// upserts its regions. Every region must lie in p's scope, below an
// existing parent or one in the same batch, one level under it. Nothing is
// written when anything is wrong; the error names every bad feature.
// Returns the number written.
func (s *Service) Import(ctx context.Context, p access.Principal, geojson []byte) (int, error) {
	rs, bad, err := ParseFeatureCollection(geojson)
	if err != nil {
		return 0, err
	}
	if len(rs) == 0 {
		return 0, errs.Invalid("features", "at least one feature is required")
	}
	return s.importRegions(ctx, p, rs, bad)
}

// importRegions checks the tree of the features that parsed (zero-valued
// entries are the ones that did not, already named in bad) and writes them.
func (s *Service) importRegions(ctx context.Context, p access.Principal, rs []Region, bad errs.FieldErrors) (int, error) {
	// Parents first, so that each child finds its parent's path.
	order := make([]int, len(rs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rs[order[a]].Level.Depth() < rs[order[b]].Level.Depth() })

	batch := map[string]*Region{}
	for _, i := range order {
		r := &rs[i]
		field := fmt.Sprintf("features[%d]", i)
		if r.Code == "" {
			continue
		}
		if _, dup := batch[r.Code]; dup {
			bad.Add(field, fmt.Sprintf("code %s appears twice", r.Code))
			continue
		}
		batch[r.Code] = r
		if r.ParentCode == "" {
			// The root is made once, at installation, from the command line.
			if r.Level == City && p.RegionPath == access.System.RegionPath {
				r.Path = "/" + r.Code + "/"
				continue
			}
			bad.Add(field, "parent_code is required (only `pingan region import` may create the city)")
			continue
		}
		parent, ok := batch[r.ParentCode]
		if !ok {
			stored, err := s.store.FindRegionByCode(ctx, r.ParentCode)
			if errors.Is(err, errs.ErrNotFound) {
				bad.Add(field, fmt.Sprintf("parent %s does not exist", r.ParentCode))
				continue
			} else if err != nil {
				return 0, err
			}
			parent = &stored
		}
		if parent.Path == "" {
			bad.Add(field, fmt.Sprintf("parent %s is itself invalid", r.ParentCode))
			continue
		}
		if parent.Level.Child() != r.Level {
			bad.Add(field, fmt.Sprintf("level %s cannot sit under a %s", r.Level, parent.Level))
			continue
		}
		r.Path = parent.Path + r.Code + "/"
		if !p.Covers(r.Path) {
			bad.Add(field, fmt.Sprintf("region %s is outside your scope", r.Code))
			continue
		}
		if existing, err := s.store.FindRegionByCode(ctx, r.Code); err == nil && existing.Path != r.Path {
			bad.Add(field, fmt.Sprintf("region %s exists under another parent; moving regions is not supported", r.Code))
		}
	}
	if err := bad.Err(); err != nil {
		return 0, err
	}
	sorted := make([]Region, len(order))
	for k, i := range order {
		sorted[k] = rs[i]
	}
	codes := make([]string, len(sorted))
	for i, r := range sorted {
		codes[i] = r.Code
	}
	d, _ := json.Marshal(map[string]any{"count": len(sorted), "codes": codes})
	err := s.log.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.UpsertRegions(ctx, sorted); err != nil {
			return err
		}
		return s.log.AppendAudit(ctx, audit.New(ctx, p, s.now(), "region.import", "region", sorted[0].Code, string(d)))
	})
	if err != nil {
		return 0, err
	}
	return len(sorted), nil
}
