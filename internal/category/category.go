// Package category holds the case categories (SPEC §4.4): data, not code.
package category

import "context"

// Kind says whether a category classifies incidents or disputes.
type Kind string

// The kinds.
const (
	Incident Kind = "incident"
	Dispute  Kind = "dispute"
)

// Category is one entry of the list an admin maintains.
type Category struct {
	Code   string
	Kind   Kind
	NameZH string
	NameEN string
	Active bool
}

// Update carries the fields a patch changes; nil means "not given".
type Update struct {
	NameZH *string
	NameEN *string
	Active *bool
}

// Store persists categories. Implemented in internal/store.
type Store interface {
	// FindCategories lists categories by kind then code; kind "" means all.
	FindCategories(ctx context.Context, kind Kind) ([]Category, error)
	// FindCategory returns errs.ErrNotFound if there is none.
	FindCategory(ctx context.Context, kind Kind, code string) (Category, error)
	// CreateCategory returns errs.ErrConflict if (kind, code) exists.
	CreateCategory(ctx context.Context, c Category) error
	// UpdateCategory returns errs.ErrNotFound if there is none.
	UpdateCategory(ctx context.Context, kind Kind, code string, u Update) (Category, error)
}

// Defaults are the categories of SPEC §4.4.
func Defaults() []Category {
	d := func(kind Kind, code, zh, en string) Category {
		return Category{Code: code, Kind: kind, NameZH: zh, NameEN: en, Active: true}
	}
	return []Category{
		d(Dispute, "marriage_family", "婚姻家庭", "Marriage and family"),
		d(Dispute, "neighbourhood", "邻里", "Neighbourhood"),
		d(Dispute, "housing_land", "房屋宅基地", "Housing and homestead land"),
		d(Dispute, "contract", "合同", "Contract"),
		d(Dispute, "damages", "损害赔偿", "Damages"),
		d(Dispute, "labour", "劳动争议", "Labour"),
		d(Dispute, "land_contract", "土地承包", "Land contracting"),
		d(Dispute, "property_mgmt", "物业", "Property management"),
		d(Dispute, "requisition", "征地拆迁", "Land requisition and demolition"),
		d(Dispute, "consumer", "消费", "Consumer"),
		d(Dispute, "other", "其他", "Other"),
		d(Incident, "public_order", "治安", "Public order"),
		d(Incident, "safety_hazard", "安全隐患", "Safety hazard"),
		d(Incident, "fire", "消防", "Fire"),
		d(Incident, "environment", "环境", "Environment"),
		d(Incident, "traffic", "交通", "Traffic"),
		d(Incident, "telecom_fraud", "电信诈骗", "Telecom fraud"),
		d(Incident, "facilities", "公共设施", "Public facilities"),
		d(Incident, "other", "其他", "Other"),
	}
}
