package store_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"pingan/internal/access"
	"pingan/internal/category"
	"pingan/internal/demo"
	"pingan/internal/errs"
	"pingan/internal/pii"
	"pingan/internal/region"
	"pingan/internal/store"
	"pingan/internal/testenv"
	"pingan/internal/user"
)

// eachDB runs fn against a fresh SQLite database and a fresh MariaDB schema.
func eachDB(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	eachSchema(t, 0, fn)
}

// eachSchema is eachDB with the migrations applied up to version only (0:
// all), so that a test of a migration can write rows as an older schema
// held them and then migrate on.
func eachSchema(t *testing.T, version int64, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, backend := range []string{"sqlite", "mysql"} {
		t.Run(backend, func(t *testing.T) {
			url := "sqlite://" + t.TempDir() + "/t.db"
			if backend == "mysql" {
				url = testenv.MySQLDSN(t)
			}
			fn(t, openDBAt(t, url, version))
		})
	}
}

// openDB opens and migrates the database at url, closed when t ends.
func openDB(t *testing.T, url string) *store.DB {
	t.Helper()
	return openDBAt(t, url, 0)
}

// openDBAt opens the database at url and migrates it up to version (0:
// all); it is closed when t ends.
func openDBAt(t *testing.T, url string, version int64) *store.DB {
	t.Helper()
	ctx := context.Background()
	sealer, err := pii.NewSealer(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, url, sealer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if version == 0 {
		err = db.Migrate(ctx)
	} else {
		err = db.MigrateTo(ctx, version)
	}
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestRegions(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := db.UpsertRegions(ctx, demo.Regions()); err != nil {
			t.Fatal(err)
		}
		r, err := db.FindRegionByCode(ctx, demo.FuqianCommunity)
		if err != nil {
			t.Fatal(err)
		}
		if r.Name != "府前社区" || r.Level != region.Community || r.ParentCode != demo.DongchengStreet ||
			r.Path != "/370500/370502/370502003/370502003001/" || r.Population != 11000 || r.Centroid == nil {
			t.Fatalf("got %+v", r)
		}
		if _, err := db.FindRegionByCode(ctx, "999999"); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("missing region: %v, want ErrNotFound", err)
		}
		counties, err := db.FindRegions(ctx, region.Filter{Scope: access.Scope{Path: "/" + demo.CityCode + "/", Code: demo.CityCode, Depth: access.CityDepth}, Level: region.County, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var codes []string
		for _, c := range counties {
			codes = append(codes, c.Code)
		}
		if got := len(codes); got != 5 || codes[0] != "370502" || codes[4] != "370523" {
			t.Fatalf("counties = %v", codes)
		}
		// Scope: 东营区's subtree holds no 广饶县 region.
		sub, err := db.FindRegions(ctx, region.Filter{Scope: access.Scope{Path: "/" + demo.CityCode + "/" + demo.DongyingDistrict + "/", Code: demo.DongyingDistrict, Depth: access.CountyDepth}, Parent: demo.GuangraoCounty, Limit: 100})
		if err != nil || len(sub) != 0 {
			t.Fatalf("cross-scope list = %d, %v", len(sub), err)
		}
		// Keyset paging.
		page, err := db.FindRegions(ctx, region.Filter{Scope: access.Scope{Path: "/" + demo.CityCode + "/", Code: demo.CityCode, Depth: access.CityDepth}, Level: region.County, After: "370503", Limit: 2})
		if err != nil || len(page) != 2 || page[0].Code != "370505" || page[1].Code != "370522" {
			t.Fatalf("page after 370503 = %+v, %v", page, err)
		}
		// Upsert updates in place.
		r.Name, r.Population = "府前社区(改)", 12000
		if err := db.UpsertRegions(ctx, []region.Region{r}); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.FindRegionByCode(ctx, r.Code); got.Name != "府前社区(改)" || got.Population != 12000 {
			t.Fatalf("after upsert: %+v", got)
		}
	})
}

func TestUsers(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := db.UpsertRegions(ctx, demo.Regions()); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 11, 27, 3, 4, 5, 123456000, time.UTC)
		u := user.User{ID: "0193f1b2-0000-7000-8000-000000000001", Username: "alice", PasswordHash: "h", Name: "Alice",
			Phone: "13812345678", Role: access.Mediator, RegionCode: demo.FuqianCommunity, Active: true, CreatedAt: now, UpdatedAt: now}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		dup := u
		dup.ID = "0193f1b2-0000-7000-8000-000000000002"
		if err := db.CreateUser(ctx, dup); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("duplicate username: %v, want ErrConflict", err)
		}
		got, err := db.FindUserByUsername(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if got.Phone != "13812345678" || !got.CreatedAt.Equal(now) || got.Role != access.Mediator {
			t.Fatalf("round trip: %+v", got)
		}
		in, err := db.FindUsers(ctx, user.Filter{Scope: access.Scope{Path: "/370500/370502/", Code: "370502", Depth: access.CountyDepth}, Limit: 10})
		if err != nil || len(in) != 1 {
			t.Fatalf("users in 东营区 = %d, %v", len(in), err)
		}
		out, err := db.FindUsers(ctx, user.Filter{Scope: access.Scope{Path: "/370500/370523/", Code: "370523", Depth: access.CountyDepth}, Limit: 10})
		if err != nil || len(out) != 0 {
			t.Fatalf("users in 广饶县 = %d, %v", len(out), err)
		}
		got.Active = false
		if err := db.UpdateUser(ctx, got, true); err != nil {
			t.Fatal(err)
		}
		if again, _ := db.FindUserByID(ctx, u.ID); again.Active {
			t.Fatal("update did not disable")
		}
		got.ID = "0193f1b2-0000-7000-8000-00000000ffff"
		if err := db.UpdateUser(ctx, got, false); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("update missing user: %v, want ErrNotFound", err)
		}
	})
}

func TestCategories(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := demo.LoadCategories(ctx, db); err != nil {
			t.Fatal(err)
		}
		if err := demo.LoadCategories(ctx, db); err != nil {
			t.Fatalf("loading defaults twice: %v", err)
		}
		all, err := db.FindCategories(ctx, "")
		if err != nil || len(all) != 19 {
			t.Fatalf("categories = %d, %v", len(all), err)
		}
		inc, _ := db.FindCategories(ctx, category.Incident)
		if len(inc) != 8 {
			t.Fatalf("incident categories = %d", len(inc))
		}
		off := false
		c, err := db.UpdateCategory(ctx, category.Dispute, "other", category.Update{Active: &off})
		if err != nil || c.Active || c.NameZH != "其他" {
			t.Fatalf("update = %+v, %v", c, err)
		}
		if _, err := db.UpdateCategory(ctx, category.Dispute, "nope", category.Update{Active: &off}); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("update missing: %v", err)
		}
	})
}
