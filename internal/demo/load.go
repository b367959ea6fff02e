// Package demo builds the demo data set of SPEC §3.3: Dongying's region
// tree, the default categories and one account per role and scope, all
// generated from fixed seeds so that every first start looks the same.
package demo

import (
	"context"
	"errors"
	"fmt"

	"pingan/internal/access"
	"pingan/internal/category"
	"pingan/internal/errs"
	"pingan/internal/region"
	"pingan/internal/user"
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
	}
}

// Stores is what loading needs.
type Stores interface {
	region.Store
	category.Store
}

// Load writes the demo region tree, the default categories and the demo
// accounts. It is meant for an empty database; categories and accounts that
// exist already are left as they are.
func Load(ctx context.Context, st Stores, users *user.Service) error {
	if err := st.UpsertRegions(ctx, Regions()); err != nil {
		return fmt.Errorf("demo regions: %w", err)
	}
	if err := LoadCategories(ctx, st); err != nil {
		return err
	}
	for _, a := range Accounts() {
		_, err := users.CreateUser(ctx, access.System, user.NewUser{Username: a.Username, Password: Password, Name: a.Name,
			Phone: a.Phone, Role: a.Role, RegionCode: a.RegionCode})
		if err != nil && !errors.Is(err, errs.ErrConflict) {
			return fmt.Errorf("demo account %s: %w", a.Username, err)
		}
	}
	return nil
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
