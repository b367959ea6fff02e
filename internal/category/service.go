package category

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/deps"
	"pingan/internal/errs"
	"pingan/internal/text"
)

// Service validates category changes; reads are open to every role.
type Service struct {
	store Store
	log   audit.Log
	now   func() time.Time
}

// NewService builds the service. Every dependency is required; a nil one
// panics, naming it.
func NewService(store Store, log audit.Log, now func() time.Time) *Service {
	deps.Require("category.NewService", "store", store, "log", log, "now", now)
	return &Service{store: store, log: log, now: now}
}

// audited writes a change with its audit entry. Categories hold for the
// whole city, so only an admin whose scope is the city may change them.
// Returns errs.ErrForbidden otherwise.
func (s *Service) audited(ctx context.Context, p access.Principal, action string, c Category, write func(ctx context.Context) error) error {
	if !p.CityWide() {
		return fmt.Errorf("categories apply to the whole city; only a city-wide admin may change them: %w", errs.ErrForbidden)
	}
	return s.log.InTx(ctx, func(ctx context.Context) error {
		if err := write(ctx); err != nil {
			return err
		}
		d, _ := json.Marshal(map[string]any{"kind": c.Kind, "code": c.Code, "name_zh": c.NameZH, "active": c.Active})
		return s.log.AppendAudit(ctx, audit.New(ctx, p, s.now(), action, "category", string(c.Kind)+"/"+c.Code, string(d)))
	})
}

var codePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{1,63}$`)

// FindCategories lists categories of kind ("" for all). Returns
// errs.ErrInvalid for an unknown kind.
func (s *Service) FindCategories(ctx context.Context, kind Kind) ([]Category, error) {
	if kind != "" && kind != Incident && kind != Dispute {
		return nil, errs.Invalid("kind", "incident or dispute")
	}
	return s.store.FindCategories(ctx, kind)
}

// CreateCategory validates and stores c. Returns errs.FieldErrors and
// errs.ErrConflict when (kind, code) exists.
func (s *Service) CreateCategory(ctx context.Context, p access.Principal, c Category) (Category, error) {
	bad := errs.FieldErrors{}
	if c.Kind != Incident && c.Kind != Dispute {
		bad.Add("kind", "incident or dispute")
	}
	if !codePattern.MatchString(c.Code) {
		bad.Add("code", "2–64 lower-case letters, digits or '_', starting with a letter")
	}
	checkName(bad, "name_zh", &c.NameZH)
	checkName(bad, "name_en", &c.NameEN)
	if err := bad.Err(); err != nil {
		return Category{}, err
	}
	err := s.audited(ctx, p, "category.create", c, func(ctx context.Context) error { return s.store.CreateCategory(ctx, c) })
	if err != nil {
		return Category{}, err
	}
	return c, nil
}

// UpdateCategory applies a patch. Returns errs.ErrNotFound and errs.FieldErrors.
func (s *Service) UpdateCategory(ctx context.Context, p access.Principal, kind Kind, code string, u Update) (Category, error) {
	bad := errs.FieldErrors{}
	if u.NameZH != nil {
		checkName(bad, "name_zh", u.NameZH)
	}
	if u.NameEN != nil {
		checkName(bad, "name_en", u.NameEN)
	}
	if err := bad.Err(); err != nil {
		return Category{}, err
	}
	var out Category
	err := s.audited(ctx, p, "category.update", Category{Kind: kind, Code: code}, func(ctx context.Context) error {
		var err error
		out, err = s.store.UpdateCategory(ctx, kind, code, u)
		return err
	})
	return out, err
}

func checkName(bad errs.FieldErrors, field string, v *string) {
	*v = strings.TrimSpace(*v)
	if n := utf8.RuneCountInString(*v); n == 0 || n > 100 || !text.Clean(*v, false) {
		bad.Add(field, "required, at most 100 characters, no control characters")
	}
}
