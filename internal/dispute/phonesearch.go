package dispute

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/errs"
	"pingan/internal/pii"
)

// The search by a party's exact phone (SPEC §8.5) is a way to read
// protected data, so it is held like a reveal: open to mediators and admins
// only, in their scope, each use audited, and rationed so that nobody can
// recover a masked number by trying its hidden digits.
const (
	// ActionPhoneSearch is the audit action of one search; the limit counts
	// these entries.
	ActionPhoneSearch = "dispute.phone_search"
	// MaxPhoneSearches is how many searches one user may make in
	// PhoneSearchWindow.
	MaxPhoneSearches  = 30
	PhoneSearchWindow = time.Hour
)

// phoneForm is what a searched number must look like.
const phoneForm = "a party's full phone number: a mobile number of 11 digits (1[3-9]…) or a landline with its area code, e.g. 0546-8221234"

// findByPhone lists the disputes in p's scope (narrowed to region) with a
// party whose phone is phone, newest first, and audits the search. The
// order of the checks matters: the role before anything (a caller who may
// not reveal learns nothing, not even whether the number is well formed),
// then the number, the scope and the limit, which is counted from the
// audit log so that every instance shares it. Returns errs.ErrForbidden
// for roles other than mediator and admin and for a region outside the
// scope, errs.FieldErrors naming phone for a masked or malformed number,
// and an *errs.RateLimitError once p has searched MaxPhoneSearches times in
// the last PhoneSearchWindow; nothing is written then.
func (s *Service) findByPhone(ctx context.Context, p access.Principal, region, phone string, f Filter) ([]Dispute, error) {
	if p.Role != access.Mediator && p.Role != access.Admin {
		return nil, fmt.Errorf("only mediators and admins may search by a party's phone: %w", errs.ErrForbidden)
	}
	plain := normalisePhone(phone)
	switch {
	case strings.Contains(plain, "*"):
		return nil, errs.Invalid("phone", "a masked number (139****4321) cannot be searched; "+phoneForm)
	case !validPhone(plain):
		return nil, errs.Invalid("phone", phoneForm)
	}
	var err error
	if f.Scope, err = access.ListScope(ctx, s.regions, p, region); err != nil {
		return nil, err
	}
	f.PhoneHash = s.hasher.Hash(plain)
	now := s.now()
	var out []Dispute
	err = s.log.InTx(ctx, func(ctx context.Context) error {
		recent, err := s.store.RecentActions(ctx, p.UserID, ActionPhoneSearch, now.Add(-PhoneSearchWindow), MaxPhoneSearches)
		if err != nil {
			return err
		}
		if len(recent) >= MaxPhoneSearches {
			// The oldest of the last MaxPhoneSearches leaves the window first.
			return &errs.RateLimitError{RetryAfterSeconds: retryAfter(recent[len(recent)-1].Add(PhoneSearchWindow).Sub(now))}
		}
		if out, err = s.store.FindDisputes(ctx, f); err != nil {
			return err
		}
		ids := make([]string, len(out))
		for i, d := range out {
			ids[i] = d.ID
		}
		// The number itself is never logged: its mask and what it found.
		details, _ := json.Marshal(map[string]any{"phone": pii.MaskPhone(plain), "cases": ids})
		entry := audit.New(ctx, p, now, ActionPhoneSearch, "dispute", "", string(details))
		if f.Scope.Path != "" {
			entry = entry.In(f.Scope.Path)
		}
		return s.log.AppendAudit(ctx, entry)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// retryAfter is a wait in whole seconds, at least one.
func retryAfter(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}
