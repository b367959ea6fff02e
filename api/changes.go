package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"pingan/internal/dispute"
	"pingan/internal/errs"
	"pingan/internal/incident"
	"pingan/internal/notify"
)

// changesLookback bounds how long a write may stay uncommitted after it
// stamped its row (a case's updated_at, a notification's id): longer than
// any request's transaction (RequestTimeout), as the notification stream
// assumes too.
const changesLookback = notify.Lookback

// casePosition is a place in the order (updated_at, id) of one case table;
// the zero position is before the first row. An empty id with a time is
// before every row of that time.
type casePosition struct {
	At time.Time `json:"t,omitzero"`
	ID string    `json:"id,omitempty"`
}

// changesCursor is where a phone's catch-up stands: per stream, the last
// row it was sent. A catch-up is a round of pages; Horizon is set while
// the round goes on (has_more), and is the time before which every write
// had committed when the round began.
type changesCursor struct {
	Incidents casePosition `json:"i,omitzero"`
	Disputes  casePosition `json:"d,omitzero"`
	Notices   string       `json:"n,omitempty"` // a notification id
	Horizon   *time.Time   `json:"h,omitempty"`
	// NoticeHorizon is Horizon as a notification id (ids are made from
	// the wall clock, case times from the service's clock).
	NoticeHorizon string `json:"nh,omitempty"`
}

// settle ends a round. A write stamped before the round's horizon had
// committed when the round began; one stamped after it may have committed
// behind a position already sent. So every position past the horizon goes
// back to it, and the next round sends those rows again — a row may come
// twice, none is skipped.
func (k changesCursor) settle() changesCursor {
	back := func(p casePosition) casePosition {
		if !p.At.IsZero() && !p.At.Before(*k.Horizon) {
			return casePosition{At: *k.Horizon}
		}
		return p
	}
	k.Incidents, k.Disputes = back(k.Incidents), back(k.Disputes)
	if k.Notices > k.NoticeHorizon {
		k.Notices = k.NoticeHorizon
	}
	k.Horizon, k.NoticeHorizon = nil, ""
	return k
}

// decodeChanges opens a since cursor. A cursor of the first format
// ("<updated_at>|<incident id>#<notification id>", before disputes were
// synced) continues with every dispute in scope. Returns errs.ErrInvalid
// for a cursor this server did not make.
func (s *server) decodeChanges(since string) (changesCursor, error) {
	var k changesCursor
	bad := errs.Invalid("since", "not a cursor from this API")
	pos, err := s.cursors.decodeValue(since)
	if err != nil {
		return k, bad
	}
	if strings.HasPrefix(pos, "{") {
		if json.Unmarshal([]byte(pos), &k) != nil || (k.Notices != "" && !notify.ValidID(k.Notices)) ||
			(k.Horizon == nil) != (k.NoticeHorizon == "") {
			return changesCursor{}, bad
		}
		return k, nil
	}
	casePos, noticePos, _ := strings.Cut(pos, "#")
	if casePos != "" {
		if k.Incidents.At, k.Incidents.ID, err = splitPosition(casePos); err != nil {
			return changesCursor{}, bad
		}
	}
	if noticePos != "" && !notify.ValidID(noticePos) {
		return changesCursor{}, bad
	}
	k.Notices = noticePos
	return k, nil
}

func (s *server) encodeChanges(k changesCursor) string {
	b, _ := json.Marshal(k) // plain fields always encode
	return s.cursors.encode(string(b))
}

// changes lists the cases (incidents and disputes) in the caller's scope
// changed since the cursor, oldest change first, and the caller's
// notifications written since it, up to limit of each, for a phone coming
// back online. While has_more is true next_cursor continues the round;
// when it is false it is where to ask from next time. A write that commits
// late (a long transaction) is never skipped: each round ends at its
// horizon (changesCursor.settle), so what changed in the last
// changesLookback before it began comes again in the next one.
func (s *server) changes(c *gin.Context) {
	if err := checkQuery(c, "since", "limit"); err != nil {
		writeError(c, err)
		return
	}
	limit, err := pageLimit(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var k changesCursor
	since := c.Query("since")
	if since != "" {
		if k, err = s.decodeChanges(since); err != nil {
			writeError(c, err)
			return
		}
	}
	if k.Horizon == nil { // a new round
		h := s.now().Add(-changesLookback).UTC()
		k.Horizon, k.NoticeHorizon = &h, notify.FirstIDAt(time.Now().Add(-changesLookback))
	}
	ctx, p := c.Request.Context(), caller(c)
	incidents, err := s.incidents.FindChanges(ctx, p, incident.ChangeFilter{Filter: incident.Filter{Limit: limit + 1},
		AfterAt: k.Incidents.At, AfterID: k.Incidents.ID})
	if err != nil {
		writeError(c, err)
		return
	}
	disputes, err := s.disputes.FindChanges(ctx, p, dispute.ChangeFilter{AfterAt: k.Disputes.At, AfterID: k.Disputes.ID, Limit: limit + 1})
	if err != nil {
		writeError(c, err)
		return
	}
	notices, err := s.notify.FindNotifications(ctx, p, notify.Query{Ascending: true, AfterID: k.Notices, Limit: limit + 1})
	if err != nil {
		writeError(c, err)
		return
	}
	more := len(incidents) > limit || len(disputes) > limit || len(notices) > limit
	incidents, disputes, notices = incidents[:min(len(incidents), limit)], disputes[:min(len(disputes), limit)], notices[:min(len(notices), limit)]
	out := changesResponse{Incidents: make([]incidentResponse, len(incidents)), Disputes: make([]disputeResponse, len(disputes)),
		Notifications: make([]notificationResponse, len(notices)), HasMore: more}
	for i, it := range incidents {
		out.Incidents[i] = newIncidentResponse(p, it)
		k.Incidents = casePosition{At: it.UpdatedAt.UTC(), ID: it.ID}
	}
	for i, d := range disputes {
		out.Disputes[i] = s.newDisputeResponse(c, d, false, false)
		k.Disputes = casePosition{At: d.UpdatedAt.UTC(), ID: d.ID}
	}
	for i, n := range notices {
		out.Notifications[i] = newNotificationResponse(n)
		k.Notices = n.ID
	}
	if !more {
		k = k.settle()
	}
	if since != "" || more || k != (changesCursor{}) {
		next := s.encodeChanges(k)
		out.NextCursor = &next
	}
	c.JSON(http.StatusOK, out)
}

type changesResponse struct {
	Incidents     []incidentResponse     `json:"incidents"`
	Disputes      []disputeResponse      `json:"disputes"`
	Notifications []notificationResponse `json:"notifications"`
	NextCursor    *string                `json:"next_cursor"`
	HasMore       bool                   `json:"has_more"`
}
