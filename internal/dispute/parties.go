package dispute

import (
	"context"
	"fmt"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/errs"
	"pingan/internal/intake"
	"pingan/internal/pii"
)

// normalisePhone is the form a party's phone is kept and searched in
// (intake.NormalisePhone: no spaces, dashes or brackets, no +86).
func normalisePhone(s string) string { return intake.NormalisePhone(s) }

// validPhone reports whether a normalised phone is a mainland mobile or
// landline number (SPEC §6 "plausible input"; intake.PhoneForm says it).
func validPhone(s string) bool { return intake.ValidPhone(s) }

// validIDNumber reports whether an upper-cased ID number passes the GB
// 11643 check digit (intake.IDNumberForm says it).
func validIDNumber(s string) bool { return intake.ValidIDNumber(s) }

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
