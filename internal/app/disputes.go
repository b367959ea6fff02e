package app

import (
	"context"

	"pingan/internal/dispute"
	"pingan/internal/notify"
)

// disputeNotices writes the dispute service's notices to the inbox.
type disputeNotices struct{ n *notify.Service }

func (d disputeNotices) NotifyDisputes(ctx context.Context, ns []dispute.Notice) error {
	out := make([]notify.Notification, len(ns))
	for i, n := range ns {
		out[i] = notify.Notification{UserID: n.UserID, Kind: n.Kind, CaseKind: notify.CaseDispute, CaseID: n.CaseID,
			CaseNo: n.CaseNo, Title: n.Title, DedupeKey: n.DedupeKey}
	}
	return d.n.Notify(ctx, out...)
}
