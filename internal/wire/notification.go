// Package wire holds the JSON shapes that leave the server by more than one
// road, so that the roads cannot drift apart: a notification as the API
// lists and streams it (openapi.yaml's Notification) is also what the
// webhook POSTs. Like api/ and internal/store it is an adapter: the domain
// packages never import it.
package wire

import (
	"encoding/json"
	"fmt"
	"time"

	"pingan/internal/notify"
)

// Notification is openapi.yaml's Notification.
type Notification struct {
	ID        string     `json:"id"`
	UserID    string     `json:"user_id"`
	Kind      string     `json:"kind"`
	CaseKind  *string    `json:"case_kind"`
	CaseID    *string    `json:"case_id"`
	CaseNo    *string    `json:"case_no"`
	Title     string     `json:"title"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at"`
}

// NewNotification renders n: the case fields null when empty, times in UTC.
func NewNotification(n notify.Notification) Notification {
	null := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	var read *time.Time
	if n.ReadAt != nil {
		t := n.ReadAt.UTC()
		read = &t
	}
	return Notification{ID: n.ID, UserID: n.UserID, Kind: n.Kind, CaseKind: null(n.CaseKind), CaseID: null(n.CaseID),
		CaseNo: null(n.CaseNo), Title: n.Title, CreatedAt: n.CreatedAt.UTC(), ReadAt: read}
}

// webhookEvent is the body of a webhook request.
type webhookEvent struct {
	Event        string       `json:"event"` // "notification"
	Notification Notification `json:"notification"`
}

// WebhookBody is the body the webhook POSTs for n (SPEC §7):
// {"event": "notification", "notification": the Notification as the API
// shows it}.
func WebhookBody(n notify.Notification) ([]byte, error) {
	b, err := json.Marshal(webhookEvent{Event: "notification", Notification: NewNotification(n)})
	if err != nil {
		return nil, fmt.Errorf("webhook body of notification %s: %w", n.ID, err)
	}
	return b, nil
}
