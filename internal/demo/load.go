// Package demo builds the demo data set of SPEC §3.3: Dongying's region
// tree, the default categories and one account per role and scope, all
// generated from fixed seeds so that every first start looks the same.
package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"pingan/internal/access"
	"pingan/internal/category"
	"pingan/internal/dispute"
	"pingan/internal/errs"
	"pingan/internal/incident"
	"pingan/internal/indicator"
	"pingan/internal/photo"
	"pingan/internal/ranking"
	"pingan/internal/region"
	"pingan/internal/txn"
	"pingan/internal/user"
	"pingan/internal/warning"
)

// Password is the password of every demo account.
const Password = "pingan-demo"

// Account is a demo login.
type Account struct {
	Username   string
	Name       string
	Phone      string
	Role       access.Role
	RegionCode string
	Note       string
}

// Accounts are the demo logins (issue #2).
func Accounts() []Account {
	return []Account{
		{"demo-admin", "演示管理员", "13800000001", access.Admin, CityCode, "admin, 东营市"},
		{"demo-supervisor", "演示督导", "13800000002", access.Supervisor, CityCode, "supervisor, 东营市"},
		{"demo-county-supervisor", "东营区督导", "13800000003", access.Supervisor, DongyingDistrict, "supervisor, 东营区"},
		{"demo-mediator", "府前社区调解员", "13800000004", access.Mediator, FuqianCommunity, "mediator, 府前社区 (东城街道, 东营区)"},
		{"demo-gridworker", "府前网格员", "13800000005", access.GridWorker, FuqianGrid1, "grid worker, 府前社区第1网格"},
		{"demo-gridworker-2", "淄河店网格员", "13800000006", access.GridWorker, GuangraoGrid1, "grid worker, 淄河店社区 (广饶县)"},
		{"demo-mediator-2", "府前社区调解员二", "13800000007", access.Mediator, FuqianCommunity, "mediator, 府前社区 (a colleague)"},
		{"demo-township-mediator", "东城街道调解员", "13800000008", access.Mediator, DongchengStreet, "mediator, 东城街道 (township level)"},
		{"demo-county-mediator", "东营区调解员", "13800000009", access.Mediator, DongyingDistrict, "mediator, 东营区 (county level)"},
		{"demo-city-mediator", "东营市调解员", "13800000010", access.Mediator, CityCode, "mediator, 东营市 (city level)"},
		{"demo-guangrao-mediator", "稻庄镇调解员", "13800000011", access.Mediator, GuangraoTownship, "mediator, a township of 广饶县"},
	}
}

// Stores is what loading needs.
type Stores interface {
	region.Store
	category.Store
	user.Store
	incident.Bulk
	incident.Photos
	dispute.Bulk
	UpsertValues(ctx context.Context, vs []indicator.Value) ([]*indicator.Value, error)
	// InsertKeyDate writes an event of the key-date calendar
	// (warning.Store's).
	InsertKeyDate(ctx context.Context, e warning.Event) error
	// CreateJob queues an index job (ranking.Store's).
	CreateJob(ctx context.Context, j ranking.Job) error
	txn.Transactor
}

// Deps is what Load writes through.
type Deps struct {
	Store  Stores
	Users  *user.Service
	Photos *photo.Service
	// Cases adds about a year of generated incidents (with a few photos);
	// tests that count rows leave it off.
	Cases bool
	Now   time.Time
	Loc   *time.Location
}

// Load writes the demo region tree, the default categories, the demo
// accounts and, when asked, the generated cases. It is meant for an empty
// database; categories and accounts that exist already are left as they are.
func Load(ctx context.Context, d Deps) error {
	if err := d.Store.UpsertRegions(ctx, Regions()); err != nil {
		return fmt.Errorf("demo regions: %w", err)
	}
	if err := LoadCategories(ctx, d.Store); err != nil {
		return err
	}
	ids := map[string]string{}
	for _, a := range Accounts() {
		u, err := d.Users.CreateUser(ctx, access.System, user.NewUser{Username: a.Username, Password: Password, Name: a.Name,
			Phone: a.Phone, Role: a.Role, RegionCode: a.RegionCode})
		if errors.Is(err, errs.ErrConflict) {
			u, err = d.Store.FindUserByUsername(ctx, a.Username)
		}
		if err != nil {
			return fmt.Errorf("demo account %s: %w", a.Username, err)
		}
		ids[a.Username] = u.ID
	}
	if !d.Cases {
		return nil
	}
	incs, events, counters := Incidents(d.Now, d.Loc, Reporters{Default: ids["demo-admin"],
		ByGrid: map[string]string{FuqianGrid1: ids["demo-gridworker"], GuangraoGrid1: ids["demo-gridworker-2"]}})
	photos, err := photograph(ctx, d, incs, ids["demo-gridworker"])
	if err != nil {
		return err
	}
	byRegion := map[string]string{}
	for _, a := range Accounts() {
		if a.Role == access.Mediator {
			if _, taken := byRegion[a.RegionCode]; !taken {
				byRegion[a.RegionCode] = ids[a.Username]
			}
		}
	}
	ds, devents, dcounters := Disputes(d.Now, d.Loc, Reporters{Default: ids["demo-admin"],
		ByGrid: map[string]string{FuqianGrid1: ids["demo-gridworker"], GuangraoGrid1: ids["demo-gridworker-2"]}},
		Mediators{ByRegion: byRegion, Default: ids["demo-admin"]})
	ifacts := IncidentFacts(incs, events)
	dfacts, deadlines, err := DisputeFacts(ds, devents, dispute.DefaultDeadlines())
	if err != nil {
		return fmt.Errorf("demo dispute facts: %w", err)
	}
	return d.Store.InTx(ctx, func(ctx context.Context) error {
		if err := d.Store.BulkInsertIncidents(ctx, incs, events, ifacts, counters); err != nil {
			return fmt.Errorf("demo incidents: %w", err)
		}
		if err := d.Store.BulkInsertDisputes(ctx, ds, devents, dfacts, deadlines, dcounters); err != nil {
			return fmt.Errorf("demo disputes: %w", err)
		}
		for id, ph := range photos {
			if err := d.Store.AttachPhotos(ctx, "incident", id, ids["demo-gridworker"], []string{ph}); err != nil {
				return fmt.Errorf("demo photo: %w", err)
			}
		}
		if _, err := d.Store.UpsertValues(ctx, Petitions(d.Now, d.Loc, ids["demo-admin"])); err != nil {
			return fmt.Errorf("demo petitions: %w", err)
		}
		for _, e := range Calendar(d.Now, d.Loc) {
			if err := d.Store.InsertKeyDate(ctx, e); err != nil {
				return fmt.Errorf("demo key date %s: %w", e.Name, err)
			}
		}
		for _, j := range IndexJobs(d.Now, d.Loc, ids["demo-admin"]) {
			if err := d.Store.CreateJob(ctx, j); err != nil {
				return fmt.Errorf("demo index job %s: %w", j.Period, err)
			}
		}
		return nil
	})
}

// Calendar is the key-date calendar of the demo (KeyDates) as the warning
// service keeps it. Repeatable.
func Calendar(now time.Time, loc *time.Location) []warning.Event {
	rng := rand.New(rand.NewPCG(2026, 1015))
	var out []warning.Event
	for _, k := range KeyDates(now, loc) {
		out = append(out, warning.Event{ID: uuidAt(rng, now), Name: k.Name, Dates: k.Dates, Version: 1, CreatedAt: now, UpdatedAt: now})
	}
	return out
}

// IndexJobs ask the index runner to compute the last three complete months
// first, oldest first and ahead of its schedule and backfill, so that the
// red-band check of the last month (three months running, SPEC §10.2)
// finds all three when it runs on first start, not only once the backfill
// has gone through the whole history.
func IndexJobs(now time.Time, loc *time.Location, by string) []ranking.Job {
	rng := rand.New(rand.NewPCG(2026, 1016))
	last := indicator.Shift(indicator.Month, indicator.PeriodOf(indicator.Month, now, loc), -1, loc)
	var out []ranking.Job
	for k := warning.RedBandRun - 1; k >= 0; k-- {
		at := now.Add(-time.Duration(k+1) * time.Second)
		out = append(out, ranking.Job{ID: uuidAt(rng, at), PeriodKind: indicator.Month,
			Period: indicator.Shift(indicator.Month, last, -k, loc), Status: ranking.Pending, Reason: "request",
			RequestedBy: by, CreatedAt: at})
	}
	return out
}

// Petitions is the department data of the demo: the petition bureau's
// monthly counts (信访量, a manual indicator) for every county, township and
// community over the last eight months, about one per 10 000 residents a
// month, and more from the TroubledTownship in its last three. Repeatable.
func Petitions(now time.Time, loc *time.Location, by string) []indicator.Value {
	rng := rand.New(rand.NewPCG(2026, 9))
	var out []indicator.Value
	for k := 8; k >= 1; k-- {
		period := indicator.Shift(indicator.Month, indicator.PeriodOf(indicator.Month, now, loc), -k, loc)
		for _, r := range Regions() {
			switch r.Level {
			case region.County, region.Township, region.Community:
				mean := float64(r.Population) / 10_000
				v := float64(poisson(rng, mean))
				if r.Code == TroubledTownship.Township && k <= 3 { // its decline brings people to the petition office
					v += float64((4 - k) * 3)
				}
				out = append(out, indicator.Value{Indicator: "petitions", RegionCode: r.Code, Period: period,
					Value: v, Note: "信访局月报", EnteredBy: by, UpdatedAt: now})
			}
		}
	}
	return out
}

// photograph gives the latest reports of demo-gridworker a photo each,
// through the real upload path (sanitised, with a thumbnail), and returns
// incident id → photo id.
func photograph(ctx context.Context, d Deps, incs []incident.Incident, reporter string) (map[string]string, error) {
	p := access.Principal{UserID: reporter, Role: access.GridWorker}
	out := map[string]string{}
	for i := len(incs) - 1; i >= 0 && len(out) < 6; i-- {
		if incs[i].ReporterID != reporter {
			continue
		}
		ph, err := d.Photos.Upload(ctx, p, bytes.NewReader(Picture(len(out))))
		if err != nil {
			return nil, fmt.Errorf("demo photo: %w", err)
		}
		incs[i].PhotoIDs = []string{ph.ID}
		out[incs[i].ID] = ph.ID
	}
	return out, nil
}

// LoadCategories writes the default categories (SPEC §4.4) that are missing.
// Production installs get them too: they are data an admin may change.
func LoadCategories(ctx context.Context, st category.Store) error {
	for _, c := range category.Defaults() {
		if err := st.CreateCategory(ctx, c); err != nil && !errors.Is(err, errs.ErrConflict) {
			return fmt.Errorf("category %s/%s: %w", c.Kind, c.Code, err)
		}
	}
	return nil
}
