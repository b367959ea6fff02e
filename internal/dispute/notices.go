package dispute

import (
	"context"
	"fmt"
	"slices"

	"pingan/internal/access"
	"pingan/internal/user"
)

// levelNotices are notices for every active mediator of d's handling region.
func (s *Service) levelNotices(ctx context.Context, d Dispute, kind, title string) ([]Notice, error) {
	users, err := s.users.FindUsers(ctx, user.Filter{Role: access.Mediator, RegionCode: d.LevelCode, Limit: 200})
	if err != nil {
		return nil, err
	}
	var out []Notice
	for _, u := range users {
		if u.Active {
			out = append(out, Notice{UserID: u.ID, Kind: kind, CaseID: d.ID, CaseNo: d.CaseNo, Title: title,
				DedupeKey: fmt.Sprintf("%s:%s:%s:%d", kind, d.ID, d.Level, d.EnteredLevelAt.UnixMicro())})
		}
	}
	return out, nil
}

// newCaseNotices tell the mediators of a new dispute's handling region that
// it waits in their queue (SPEC §7), with the accept deadline in the title
// of a high-risk one (2 h by default). The reporter is left out when they
// are one of them. Written in the registration's transaction, once per case.
func (s *Service) newCaseNotices(ctx context.Context, p access.Principal, d Dispute) ([]Notice, error) {
	title := "新矛盾纠纷待受理 " + d.CaseNo
	if d.Risk == RiskHigh && d.DueAt != nil {
		title = fmt.Sprintf("高风险矛盾纠纷待受理 %s, %s前受理", d.CaseNo, d.DueAt.In(s.loc).Format("01-02 15:04"))
	}
	ns, err := s.levelNotices(ctx, d, KindNewCase, title)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(ns, func(n Notice) bool { return n.UserID == p.UserID }), nil
}

// NotifyDue writes one "due_soon" notice per open case and deadline within
// DueSoon, and one "overdue" notice once it has passed, to its assignee or,
// without one, to the mediators of its level. Notices carry a key per case
// and deadline, so running this every minute notifies each only once. The
// deadlines that have passed are written as breached in the same
// transaction (SPEC §4.3).
// Returns how many cases it looked at.
func (s *Service) NotifyDue(ctx context.Context) (int, error) {
	now := s.now()
	due, err := s.store.FindDueDisputes(ctx, now.Add(DueSoon), 500)
	if err != nil {
		return 0, err
	}
	var notices []Notice
	var breached []string
	for _, d := range due {
		kind, title := "due_soon", "矛盾纠纷即将超期 "+d.CaseNo
		if d.DueAt.Before(now) {
			kind, title = "overdue", "矛盾纠纷已超期 "+d.CaseNo
			breached = append(breached, d.ID)
		}
		key := fmt.Sprintf("%s:%s:%d", kind, d.ID, d.DueAt.UnixMicro())
		if d.AssigneeID != "" {
			notices = append(notices, Notice{UserID: d.AssigneeID, Kind: kind, CaseID: d.ID, CaseNo: d.CaseNo, Title: title, DedupeKey: key})
			continue
		}
		ns, err := s.levelNotices(ctx, d, kind, title)
		if err != nil {
			return 0, err
		}
		for i := range ns {
			ns[i].DedupeKey = key
		}
		notices = append(notices, ns...)
	}
	if len(notices) == 0 && len(breached) == 0 {
		return len(due), nil
	}
	return len(due), s.log.InTx(ctx, func(ctx context.Context) error {
		if len(breached) > 0 {
			if err := s.store.MarkBreached(ctx, breached, now); err != nil {
				return err
			}
		}
		return s.notifier.NotifyDisputes(ctx, notices)
	})
}
