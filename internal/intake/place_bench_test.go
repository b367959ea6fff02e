package intake_test

import (
	"context"
	"fmt"
	"testing"

	"pingan/internal/demo"
	"pingan/internal/errs"
	"pingan/internal/intake"
	"pingan/internal/region"
)

// demoRegions serves the demo tree as the store's cache does: the same
// region value, boundary bytes and all, each time.
type demoRegions map[string]region.Region

func (d demoRegions) FindRegionByCode(_ context.Context, code string) (region.Region, error) {
	if r, ok := d[code]; ok {
		return r, nil
	}
	return region.Region{}, fmt.Errorf("region %s: %w", code, errs.ErrNotFound)
}
func (d demoRegions) FindRegionPath(ctx context.Context, code string) (string, error) {
	r, err := d.FindRegionByCode(ctx, code)
	return r.Path, err
}
func (demoRegions) FindRegions(context.Context, region.Filter) ([]region.Region, error) {
	return nil, nil
}
func (demoRegions) UpsertRegions(context.Context, []region.Region) error { return nil }

// BenchmarkPlacesCheck is what the location check adds to a report on the
// demo tree: the city's boundary and the grid's, parsed once.
func BenchmarkPlacesCheck(b *testing.B) {
	tree := demoRegions{}
	for _, r := range demo.Regions() {
		tree[r.Code] = r
	}
	pl := intake.NewPlaces(tree, nil, intake.DefaultGridRadiusKM)
	grid := tree[demo.FuqianGrid1]
	lat, lng := demo.ExamplePoint.Lat, demo.ExamplePoint.Lng
	loc := intake.Location{Lat: &lat, Lng: &lng}
	ctx := context.Background()
	for b.Loop() {
		if err := pl.Check(ctx, grid, loc); err != nil {
			b.Fatal(err)
		}
	}
}
