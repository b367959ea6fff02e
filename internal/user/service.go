package user

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/deps"
	"pingan/internal/errs"
	"pingan/internal/intake"
	"pingan/internal/region"
	"pingan/internal/text"
)

// Hasher turns a password into a stored hash (auth.HashPassword), and
// Policy checks a new password (auth.CheckPasswordPolicy); injected to keep
// this package free of the auth package.
type (
	Hasher func(password string) (string, error)
	Policy func(password string) error
)

// Callers is told of every account change once it is written, so that
// what it remembers of the account is dropped and the next request sees
// the change (auth.Service, which caches the callers it authenticated).
type Callers interface {
	Forget(userID string)
}

// Service manages accounts within an admin's scope.
type Service struct {
	store   Store
	regions region.Store
	log     audit.Log
	hash    Hasher
	policy  Policy
	callers Callers
	now     func() time.Time
}

// NewService builds the service. Every dependency is required; a nil one
// panics, naming it.
func NewService(store Store, regions region.Store, log audit.Log, hash Hasher, policy Policy, callers Callers,
	now func() time.Time) *Service {
	deps.Require("user.NewService", "store", store, "regions", regions, "log", log, "hash", hash, "policy", policy,
		"callers", callers, "now", now)
	return &Service{store: store, regions: regions, log: log, hash: hash, policy: policy, callers: callers, now: now}
}

func details(u User, extra ...string) string {
	m := map[string]any{"username": u.Username, "role": u.Role, "region_code": u.RegionCode, "active": u.Active}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// NewUser is what creating an account takes.
type NewUser struct {
	Username, Password, Name, Phone string
	Role                            access.Role
	RegionCode                      string
}

var (
	usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,63}$`)
)

// CreateUser validates and stores a new account in p's scope. Returns
// errs.FieldErrors for bad fields (a region outside the scope is a bad
// field) and errs.ErrConflict for a taken username.
func (s *Service) CreateUser(ctx context.Context, p access.Principal, in NewUser) (User, error) {
	bad := errs.FieldErrors{}
	if !usernamePattern.MatchString(in.Username) {
		bad.Add("username", "3–64 lower-case letters, digits, '.', '_' or '-'")
	}
	if err := s.policy(in.Password); err != nil {
		bad.Add("password", fieldMsg(err, "password"))
	}
	s.checkFields(ctx, p, bad, &in.Name, &in.Phone, &in.Role, &in.RegionCode)
	if err := bad.Err(); err != nil {
		return User{}, err
	}
	hash, err := s.hash(in.Password)
	if err != nil {
		return User{}, err
	}
	now := s.now()
	u := User{ID: uuid.Must(uuid.NewV7()).String(), Username: in.Username, PasswordHash: hash, Name: strings.TrimSpace(in.Name),
		Phone: intake.NormalisePhone(in.Phone), Role: in.Role, RegionCode: in.RegionCode, Active: true, CreatedAt: now, UpdatedAt: now}
	err = s.log.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.CreateUser(ctx, u); err != nil {
			return err
		}
		path, err := s.regions.FindRegionPath(ctx, u.RegionCode)
		if err != nil {
			return err
		}
		return s.log.AppendAudit(ctx, audit.New(ctx, p, now, "user.create", "user", u.ID, details(u)).In(path))
	})
	if err != nil {
		return User{}, err
	}
	return u, nil
}

// checkFields validates the fields shared by create and update; nil
// pointers are "not given".
func (s *Service) checkFields(ctx context.Context, p access.Principal, bad errs.FieldErrors, name, phone *string, role *access.Role, regionCode *string) {
	if name != nil {
		if n := utf8.RuneCountInString(strings.TrimSpace(*name)); n == 0 || n > 100 || !text.Clean(*name, false) {
			bad.Add("name", "required, at most 100 characters, no control characters")
		}
	}
	if phone != nil && *phone != "" && !intake.ValidPhone(intake.NormalisePhone(*phone)) {
		bad.Add("phone", intake.PhoneForm)
	}
	if role != nil && !role.Valid() {
		bad.Add("role", "one of grid_worker, mediator, supervisor, admin")
	}
	if regionCode != nil {
		r, err := s.regions.FindRegionByCode(ctx, *regionCode)
		if err != nil || !p.Covers(r.Path) {
			bad.Add("region_code", "not a region in your scope")
		} else if role != nil && *role == access.GridWorker && r.Level != region.Grid {
			bad.Add("region_code", "a grid worker's scope must be a grid")
		}
	}
}

func fieldMsg(err error, field string) string {
	if fe, ok := err.(errs.FieldErrors); ok {
		if m, ok := fe[field]; ok {
			return m
		}
	}
	return err.Error()
}

// FindUser returns the account if it lies in p's scope; errs.ErrNotFound
// otherwise.
func (s *Service) FindUser(ctx context.Context, p access.Principal, id string) (User, error) {
	if _, err := uuid.Parse(id); err != nil {
		return User{}, fmt.Errorf("user %q: %w", id, errs.ErrNotFound)
	}
	u, err := s.store.FindUserByID(ctx, id)
	if err != nil {
		return User{}, err
	}
	r, err := s.regions.FindRegionByCode(ctx, u.RegionCode)
	if err != nil {
		return User{}, err
	}
	if err := p.CheckObject("user", id, r.Path); err != nil {
		return User{}, err
	}
	return u, nil
}

// FindUsers lists accounts in p's scope. Returns errs.ErrForbidden when
// f.RegionCode is outside it.
func (s *Service) FindUsers(ctx context.Context, p access.Principal, f Filter) ([]User, error) {
	if f.RegionCode != "" {
		if _, err := access.ListScope(ctx, s.regions, p, f.RegionCode); err != nil {
			return nil, err
		}
	}
	var err error
	if f.Scope, err = access.ListScope(ctx, s.regions, p, ""); err != nil {
		return nil, err
	}
	return s.store.FindUsers(ctx, f)
}

// UpdateUser applies a patch. Disabling an account or changing its role,
// scope or password revokes its refresh tokens in the same transaction (its
// access tokens stop working at once, since every request reloads the
// user). Returns errs.ErrNotFound outside p's scope and errs.FieldErrors.
func (s *Service) UpdateUser(ctx context.Context, p access.Principal, id string, up Update) (User, error) {
	if _, err := s.FindUser(ctx, p, id); err != nil {
		return User{}, err
	}
	bad := errs.FieldErrors{}
	if up.Password != nil {
		if err := s.policy(*up.Password); err != nil {
			bad.Add("password", fieldMsg(err, "password"))
		}
	}
	if up.Active != nil && !*up.Active && id == p.UserID {
		bad.Add("active", "you cannot disable your own account")
	}
	var hash string
	if up.Password != nil && len(bad) == 0 {
		var err error
		if hash, err = s.hash(*up.Password); err != nil {
			return User{}, err
		}
	}
	var out User
	// Read, check and write under the row's lock: two patches at once apply
	// one after the other, so neither undoes the other (a disable stays).
	err := s.log.InTx(ctx, func(ctx context.Context) error {
		u, err := s.store.LockUser(ctx, id)
		if err != nil {
			return err
		}
		role := up.Role
		if role == nil && up.RegionCode != nil {
			role = &u.Role
		}
		s.checkFields(ctx, p, bad, up.Name, up.Phone, role, up.RegionCode)
		if up.Role != nil && up.RegionCode == nil {
			// A new role must still fit the current scope.
			s.checkFields(ctx, p, bad, nil, nil, up.Role, &u.RegionCode)
		}
		if err := bad.Err(); err != nil {
			return err
		}
		revoke := false
		if up.Name != nil {
			u.Name = strings.TrimSpace(*up.Name)
		}
		if up.Phone != nil {
			u.Phone = intake.NormalisePhone(*up.Phone)
		}
		if up.Role != nil && *up.Role != u.Role {
			u.Role, revoke = *up.Role, true
		}
		if up.RegionCode != nil && *up.RegionCode != u.RegionCode {
			u.RegionCode, revoke = *up.RegionCode, true
		}
		if up.Active != nil && *up.Active != u.Active {
			u.Active = *up.Active
			revoke = revoke || !u.Active
		}
		changed := "false"
		if up.Password != nil {
			u.PasswordHash, revoke, changed = hash, true, "true"
		}
		u.UpdatedAt = s.now()
		if err := s.store.UpdateUser(ctx, u, revoke); err != nil {
			return err
		}
		out = u
		path, err := s.regions.FindRegionPath(ctx, u.RegionCode)
		if err != nil {
			return err
		}
		return s.log.AppendAudit(ctx, audit.New(ctx, p, u.UpdatedAt, "user.update", "user", u.ID,
			details(u, "password_changed", changed)).In(path))
	})
	s.callers.Forget(id)
	if err != nil {
		return User{}, err
	}
	return out, nil
}
