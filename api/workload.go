package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"pingan/internal/access"
	"pingan/internal/errs"
	"pingan/internal/workload"
)

// The workload report (SPEC §11.3): one row per grid worker and mediator
// in the caller's scope, with their figures of the period.

type gridWorkerFiguresResponse struct {
	Reports       int `json:"reports"`
	Confirmations int `json:"confirmations"`
}

type mediatorFiguresResponse struct {
	Accepted            int      `json:"accepted"`
	Sessions            int      `json:"sessions"`
	Settled             int      `json:"settled"`
	Failed              int      `json:"failed"`
	Escalated           int      `json:"escalated"`
	MedianDaysToSettle  *float64 `json:"median_days_to_settle"`
	SettledWithDeadline int      `json:"settled_with_deadline"`
	SettledOnTime       int      `json:"settled_on_time"`
	OnTimeRate          *float64 `json:"on_time_rate"`
	FollowUps           int      `json:"follow_ups"`
	MeanSatisfaction    *float64 `json:"mean_satisfaction"`
}

type workloadRowResponse struct {
	UserID     string                     `json:"user_id"`
	Username   string                     `json:"username"`
	Name       string                     `json:"name"`
	Role       string                     `json:"role"`
	Active     bool                       `json:"active"`
	RegionCode string                     `json:"region_code"`
	RegionName string                     `json:"region_name"`
	GridWorker *gridWorkerFiguresResponse `json:"grid_worker"`
	Mediator   *mediatorFiguresResponse   `json:"mediator"`
}

type workloadResponse struct {
	From string `json:"from"`
	To   string `json:"to"`
	page[workloadRowResponse]
}

func newWorkloadRow(r workload.Row) workloadRowResponse {
	out := workloadRowResponse{UserID: r.ID, Username: r.Username, Name: r.Name, Role: string(r.Role), Active: r.Active,
		RegionCode: r.RegionCode, RegionName: r.RegionName}
	if g := r.GridWorker; g != nil {
		out.GridWorker = &gridWorkerFiguresResponse{Reports: g.Reports, Confirmations: g.Confirmations}
	}
	if m := r.Mediator; m != nil {
		out.Mediator = &mediatorFiguresResponse{Accepted: m.Accepted, Sessions: m.Sessions, Settled: m.Settled,
			Failed: m.Failed, Escalated: m.Escalated, MedianDaysToSettle: m.MedianDaysToSettle,
			SettledWithDeadline: m.SettledWithDeadline, SettledOnTime: m.SettledOnTime, OnTimeRate: m.OnTimeRate,
			FollowUps: m.FollowUps, MeanSatisfaction: m.MeanSatisfaction}
	}
	return out
}

// workloadCursor reads a ?cursor= holding a (role, user id) position.
func (s *server) workloadCursor(c *gin.Context, bad errs.FieldErrors) *workload.Position {
	pos, err := s.cursors.decode(c)
	if err == nil && pos != "" {
		role, id, ok := strings.Cut(pos, "|")
		if ok && id != "" && (access.Role(role) == access.GridWorker || access.Role(role) == access.Mediator) {
			return &workload.Position{Role: access.Role(role), UserID: id}
		}
	}
	if err != nil || pos != "" {
		bad.Add("cursor", "not a cursor from this API")
	}
	return nil
}

func (s *server) workloadReport(c *gin.Context) {
	if err := checkQuery(c, "region", "from", "to", "role", "limit", "cursor"); err != nil {
		writeError(c, err)
		return
	}
	limit, err := pageLimit(c)
	if err != nil {
		writeError(c, err)
		return
	}
	bad := errs.FieldErrors{}
	after := s.workloadCursor(c, bad)
	if err := bad.Err(); err != nil {
		writeError(c, err)
		return
	}
	rep, err := s.workload.Workload(c.Request.Context(), caller(c), workload.Query{Region: c.Query("region"),
		From: c.Query("from"), To: c.Query("to"), Role: c.Query("role"), After: after, Limit: limit + 1})
	if err != nil {
		writeError(c, err)
		return
	}
	rows := make([]workloadRowResponse, len(rep.Rows))
	for i, r := range rep.Rows {
		rows[i] = newWorkloadRow(r)
	}
	c.JSON(http.StatusOK, workloadResponse{From: rep.Period.From, To: rep.Period.To,
		page: newPage(rows, limit, s.cursors, func(r workloadRowResponse) string { return r.Role + "|" + r.UserID })})
}
