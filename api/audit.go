package api

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"pingan/internal/audit"
	"pingan/internal/errs"
)

type auditResponse struct {
	ID        string    `json:"id"`
	At        time.Time `json:"at"`
	ActorID   string    `json:"actor_id"`
	ActorRole string    `json:"actor_role"`
	Action    string    `json:"action"`
	Entity    string    `json:"entity"`
	EntityID  string    `json:"entity_id"`
	RequestID string    `json:"request_id"`
	ClientIP  string    `json:"client_ip"`
	// Details is the JSON object the entry stored ({} when none).
	Details json.RawMessage `json:"details"`
}

func (s *server) listAudit(c *gin.Context) {
	if err := checkQuery(c, "entity", "actor", "from", "to", "limit", "cursor"); err != nil {
		writeError(c, err)
		return
	}
	limit, err := pageLimit(c)
	if err != nil {
		writeError(c, err)
		return
	}
	bad := errs.FieldErrors{}
	f := audit.Filter{Entity: c.Query("entity"), ActorID: c.Query("actor"), Limit: limit + 1}
	f.From, f.To = timeRange(c, bad)
	f.BeforeAt, f.BeforeID = s.timeCursor(c, bad)
	if len(f.Entity) > 32 {
		bad.Add("entity", "at most 32 characters")
	}
	if len(f.ActorID) > 36 {
		bad.Add("actor", "a user id")
	}
	if err := bad.Err(); err != nil {
		writeError(c, err)
		return
	}
	entries, err := s.auditLog.FindAudit(c.Request.Context(), caller(c), f)
	if err != nil {
		writeError(c, err)
		return
	}
	out := make([]auditResponse, len(entries))
	for i, e := range entries {
		out[i] = auditResponse{ID: e.ID, At: e.At.UTC(), ActorID: e.ActorID, ActorRole: string(e.ActorRole), Action: e.Action,
			Entity: e.Entity, EntityID: e.EntityID, RequestID: e.RequestID, ClientIP: e.ClientIP, Details: detailsObject(c, e)}
	}
	c.JSON(http.StatusOK, newPage(out, limit, s.cursors, func(r auditResponse) string { return joinPosition(r.At, r.ID) }))
}

// detailsObject is an entry's details as a JSON object, {} when it has
// none. Entries are written with objects only; anything else is logged
// with the entry's id and shown as {}.
func detailsObject(c *gin.Context, e audit.Entry) json.RawMessage {
	b := []byte(strings.TrimSpace(e.Details))
	if len(b) == 0 {
		return json.RawMessage("{}")
	}
	if b[0] != '{' || !json.Valid(b) {
		logger(c).Error("audit entry with details that are not a JSON object", slog.String("audit_id", e.ID))
		return json.RawMessage("{}")
	}
	return b
}
