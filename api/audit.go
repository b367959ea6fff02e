package api

import (
	"net/http"
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
	Details   *string   `json:"details"`
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
	entries, err := s.auditLog.FindAudit(c.Request.Context(), f)
	if err != nil {
		writeError(c, err)
		return
	}
	out := make([]auditResponse, len(entries))
	for i, e := range entries {
		out[i] = auditResponse{ID: e.ID, At: e.At.UTC(), ActorID: e.ActorID, ActorRole: string(e.ActorRole), Action: e.Action,
			Entity: e.Entity, EntityID: e.EntityID, RequestID: e.RequestID, ClientIP: e.ClientIP}
		if e.Details != "" {
			d := e.Details
			out[i].Details = &d
		}
	}
	c.JSON(http.StatusOK, newPage(out, limit, s.cursors, func(r auditResponse) string { return joinPosition(r.At, r.ID) }))
}
