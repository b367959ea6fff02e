package dispute

import (
	"context"
	"fmt"
	"strings"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/errs"
	"pingan/internal/pii"
)

func normalisePhone(s string) string {
	return strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(s))
}

func validPhone(s string) bool {
	digits := strings.TrimPrefix(s, "+")
	if len(digits) < 7 || len(digits) > 15 {
		return false
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func validIDNumber(s string) bool {
	if len(s) != 18 {
		return false
	}
	for i, r := range s {
		if !(r >= '0' && r <= '9') && !(i == 17 && r == 'X') {
			return false
		}
	}
	return true
}

// Reveal returns the dispute with its parties unmasked, for its assigned
// mediator or an admin only (errs.ErrForbidden for others who may see it),
// and records the reveal in the audit log.
func (s *Service) Reveal(ctx context.Context, p access.Principal, id string) (Dispute, error) {
	d, err := s.FindDispute(ctx, p, id)
	if err != nil {
		return Dispute{}, err
	}
	if !(p.Role == access.Admin || (p.Role == access.Mediator && d.AssigneeID == p.UserID)) {
		return Dispute{}, fmt.Errorf("only the assigned mediator or an admin may see the parties' full details: %w", errs.ErrForbidden)
	}
	err = s.log.InTx(ctx, func(ctx context.Context) error {
		return s.log.AppendAudit(ctx, audit.New(ctx, p, s.now(), "dispute.reveal", "dispute", d.ID,
			fmt.Sprintf(`{"parties":%d}`, len(d.Parties))).In(d.gridPath()))
	})
	if err != nil {
		return Dispute{}, err
	}
	return d, nil
}

// MaskParties returns the parties with phone and ID numbers masked.
func MaskParties(ps []Party) []Party {
	out := make([]Party, len(ps))
	for i, p := range ps {
		out[i] = Party{Role: p.Role, Name: p.Name, Phone: pii.MaskPhone(p.Phone), IDNumber: pii.MaskID(p.IDNumber)}
	}
	return out
}
