package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"pingan/internal/dispute"
	"pingan/internal/errs"
	"pingan/internal/region"
)

type partyBody struct {
	Role     *string `json:"role"`
	Name     *string `json:"name"`
	Phone    *string `json:"phone"`
	IDNumber *string `json:"id_number"`
}

type createDisputeRequest struct {
	Category        *string       `json:"category"`
	Description     *string       `json:"description"`
	Location        *locationBody `json:"location"`
	OccurredAt      *time.Time    `json:"occurred_at"`
	ClientCreatedAt *time.Time    `json:"client_created_at"`
	RegionCode      *string       `json:"region_code"`
	PhotoIDs        []string      `json:"photo_ids" max:"9"`
	Parties         []partyBody   `json:"parties" max:"20"`
	Amount          *int64        `json:"amount" expect:"an integer number of fen"`
	RiskLevel       *string       `json:"risk_level"`
}

type partyResponse struct {
	Role     string `json:"role"`
	Name     string `json:"name"`
	Phone    string `json:"phone"`
	IDNumber string `json:"id_number"`
}

type disputeResponse struct {
	ID              string           `json:"id"`
	CaseNo          string           `json:"case_no"`
	Category        string           `json:"category"`
	Description     string           `json:"description"`
	Location        locationResponse `json:"location"`
	RegionCode      string           `json:"region_code"`
	OccurredAt      time.Time        `json:"occurred_at"`
	ReportedAt      time.Time        `json:"reported_at"`
	ClientCreatedAt *time.Time       `json:"client_created_at"`
	ReporterID      string           `json:"reporter_id"`
	PhotoIDs        []string         `json:"photo_ids"`
	Parties         []partyResponse  `json:"parties,omitempty"`
	PartiesRevealed bool             `json:"parties_revealed"`
	Amount          *int64           `json:"amount"`
	RiskLevel       string           `json:"risk_level"`
	Status          string           `json:"status"`
	Level           string           `json:"level"`
	LevelCode       string           `json:"level_code"`
	AssigneeID      *string          `json:"assignee_id"`
	DueAt           *time.Time       `json:"due_at"`
	Overdue         bool             `json:"overdue"`
	ResolvedLevel   *string          `json:"resolved_level"`
	ResolvedAt      *time.Time       `json:"resolved_at"`
	Outcome         outcomeResponse  `json:"outcome"`
	FollowUps       int              `json:"follow_ups"`
	LastFollowUpAt  *time.Time       `json:"last_follow_up_at"`
	ClosedAt        *time.Time       `json:"closed_at"`
	AllowedActions  []string         `json:"allowed_actions"`
	Version         int              `json:"version"`
	CreatedAt       time.Time        `json:"created_at"`
	UpdatedAt       time.Time        `json:"updated_at"`
}

// outcomeResponse is DisputeOutcome: only what the case has come to.
type outcomeResponse struct {
	Agreement     string   `json:"agreement,omitempty"`
	AmountSettled *int64   `json:"amount_settled,omitempty"`
	PhotoIDs      []string `json:"photo_ids,omitempty"`
	FailReason    string   `json:"fail_reason,omitempty"`
	ReferredTo    string   `json:"referred_to,omitempty"`
	ReferNote     string   `json:"refer_note,omitempty"`
	Satisfaction  *int     `json:"satisfaction,omitempty"`
}

func newOutcomeResponse(o dispute.Outcome) outcomeResponse {
	return outcomeResponse{Agreement: o.Agreement, AmountSettled: o.AmountSettled, PhotoIDs: o.PhotoIDs,
		FailReason: o.FailReason, ReferredTo: o.ReferredTo, ReferNote: o.ReferNote, Satisfaction: o.Satisfaction}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// newDisputeResponse renders d for c's caller: the parties masked unless
// revealed, left out of lists (withParties false).
func (s *server) newDisputeResponse(c *gin.Context, d dispute.Dispute, withParties, revealed bool) disputeResponse {
	now := s.now()
	out := disputeResponse{ID: d.ID, CaseNo: d.CaseNo, Category: d.Category, Description: d.Description,
		Location:   locationResponse{Lat: d.Location.Lat, Lng: d.Location.Lng, Address: d.Location.Address},
		RegionCode: d.RegionCode, OccurredAt: d.OccurredAt.UTC(), ReportedAt: d.ReportedAt.UTC(),
		ClientCreatedAt: utcPtr(d.ClientCreatedAt), ReporterID: d.ReporterID, PhotoIDs: d.PhotoIDs, Amount: d.Amount,
		RiskLevel: string(d.Risk), Status: string(d.Status), Level: string(d.Level), LevelCode: d.LevelCode,
		AssigneeID: strPtr(d.AssigneeID), DueAt: utcPtr(d.DueAt), Overdue: d.Overdue(now),
		ResolvedLevel: strPtr(string(d.ResolvedLevel)), ResolvedAt: utcPtr(d.ResolvedAt), Outcome: newOutcomeResponse(d.Outcome),
		FollowUps: d.FollowUps, LastFollowUpAt: utcPtr(d.LastFollowUpAt), ClosedAt: utcPtr(d.ClosedAt),
		AllowedActions: dispute.AllowedActions(caller(c), d, now), Version: d.Version,
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC()}
	if withParties {
		parties := d.Parties
		if !revealed {
			parties = dispute.MaskParties(parties)
		}
		out.Parties = make([]partyResponse, len(parties))
		for i, p := range parties {
			out.Parties[i] = partyResponse{Role: string(p.Role), Name: p.Name, Phone: p.Phone, IDNumber: p.IDNumber}
		}
		out.PartiesRevealed = revealed
	}
	return out
}

func (s *server) createDispute(c *gin.Context) {
	var req createDisputeRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	in := dispute.NewDispute{PhotoIDs: req.PhotoIDs, ClientCreatedAt: req.ClientCreatedAt, Amount: req.Amount}
	bad := errs.FieldErrors{}
	str := func(field string, v *string, dst *string) {
		if v == nil {
			bad.Add(field, "required")
			return
		}
		*dst = *v
	}
	var risk string
	str("category", req.Category, &in.Category)
	str("description", req.Description, &in.Description)
	str("risk_level", req.RiskLevel, &risk)
	in.Risk = dispute.Risk(risk)
	if req.OccurredAt == nil {
		bad.Add("occurred_at", "required")
	} else {
		in.OccurredAt = *req.OccurredAt
	}
	if req.Location != nil {
		in.Location = dispute.Location{Lat: req.Location.Lat, Lng: req.Location.Lng}
		if req.Location.Address != nil {
			in.Location.Address = *req.Location.Address
		}
	}
	if req.RegionCode != nil {
		in.RegionCode = *req.RegionCode
	}
	if req.Parties == nil {
		bad.Add("parties", "required")
	}
	for _, p := range req.Parties {
		var pt dispute.Party
		var role string
		if p.Role != nil {
			role = *p.Role
		}
		pt.Role = dispute.PartyRole(role)
		if p.Name != nil {
			pt.Name = *p.Name
		}
		if p.Phone != nil {
			pt.Phone = *p.Phone
		}
		if p.IDNumber != nil {
			pt.IDNumber = *p.IDNumber
		}
		in.Parties = append(in.Parties, pt)
	}
	if err := bad.Err(); err != nil {
		writeError(c, err)
		return
	}
	d, err := s.disputes.CreateDispute(c.Request.Context(), caller(c), in)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Location", "/api/v1/disputes/"+d.ID)
	c.Header("ETag", etag(d.Version))
	c.JSON(http.StatusCreated, s.newDisputeResponse(c, d, true, false))
}

func (s *server) getDispute(c *gin.Context) {
	if err := checkQuery(c, "reveal"); err != nil {
		writeError(c, err)
		return
	}
	ctx, p, id := c.Request.Context(), caller(c), c.Param("id")
	switch c.Query("reveal") {
	case "":
	case "parties":
		// Every reveal is audited, so it is never answered from a cache.
		d, err := s.disputes.Reveal(ctx, p, id)
		if err != nil {
			writeError(c, err)
			return
		}
		c.Header("Cache-Control", "no-store")
		c.Header("ETag", etag(d.Version))
		c.JSON(http.StatusOK, s.newDisputeResponse(c, d, true, true))
		return
	default:
		writeError(c, errs.Invalid("reveal", `only "parties" is supported`))
		return
	}
	d, err := s.disputes.FindDispute(ctx, p, id)
	if err != nil {
		writeError(c, err)
		return
	}
	if notModified(c, d.Version) {
		return
	}
	c.JSON(http.StatusOK, s.newDisputeResponse(c, d, true, false))
}

// disputeFilters are the filters of the dispute list that its export takes
// too; the list also searches by a party's phone (phone), which is audited
// and rationed one search at a time and is no export filter.
var disputeFilters = []string{"region", "status", "level", "category", "risk", "overdue", "assignee", "from", "to"}

// disputeQuery reads the dispute list's filters (disputeFilters and phone)
// into a query, adding what is wrong with them to bad.
func disputeQuery(c *gin.Context, bad errs.FieldErrors) dispute.Query {
	q := dispute.Query{Region: c.Query("region"), Phone: c.Query("phone"), Filter: dispute.Filter{
		Status: dispute.Status(c.Query("status")), Level: dispute.Level(c.Query("level")), Category: c.Query("category"),
		Risk: dispute.Risk(c.Query("risk"))}}
	if q.Status != "" && !q.Status.Valid() {
		bad.Add("status", "not a dispute status")
	}
	switch q.Level {
	case "", region.Community, region.Township, region.County, region.City:
	default:
		bad.Add("level", "one of community, township, county, city")
	}
	if q.Risk != "" && !q.Risk.Valid() {
		bad.Add("risk", "one of low, medium, high")
	}
	if len(q.Category) > 64 {
		bad.Add("category", "not a category code")
	}
	switch v := c.Query("overdue"); v {
	case "":
	case "true", "false":
		b := v == "true"
		q.Overdue = &b
	default:
		bad.Add("overdue", "true or false")
	}
	switch v := c.Query("assignee"); v {
	case "":
	case "me":
		q.AssigneeMe = true
	default:
		bad.Add("assignee", `only "me" is supported`)
	}
	q.From, q.To = timeRange(c, bad)
	return q
}

func (s *server) listDisputes(c *gin.Context) {
	if err := checkQuery(c, slices.Concat(disputeFilters, []string{"phone", "limit", "cursor"})...); err != nil {
		writeError(c, err)
		return
	}
	limit, err := pageLimit(c)
	if err != nil {
		writeError(c, err)
		return
	}
	bad := errs.FieldErrors{}
	q := disputeQuery(c, bad)
	q.Limit = limit + 1
	q.BeforeAt, q.BeforeID = s.timeCursor(c, bad)
	if err := bad.Err(); err != nil {
		writeError(c, err)
		return
	}
	items, err := s.disputes.FindDisputes(c.Request.Context(), caller(c), q)
	if err != nil {
		writeError(c, err)
		return
	}
	out := make([]disputeResponse, len(items))
	for i, it := range items {
		out[i] = s.newDisputeResponse(c, it, false, false)
	}
	c.JSON(http.StatusOK, newPage(out, limit, s.cursors, func(r disputeResponse) string {
		return joinPosition(r.CreatedAt, r.ID)
	}))
}

type disputeActionRequest struct {
	Action        *string    `json:"action"`
	AssigneeID    *string    `json:"assignee_id"`
	HeldAt        *time.Time `json:"held_at"`
	Method        *string    `json:"method"`
	Attendees     []string   `json:"attendees" max:"50"`
	Notes         *string    `json:"notes"`
	PhotoIDs      []string   `json:"photo_ids" max:"9"`
	Agreement     *string    `json:"agreement"`
	AmountSettled *int64     `json:"amount_settled" expect:"an integer number of fen"`
	Reason        *string    `json:"reason"`
	To            *string    `json:"to"`
	Note          *string    `json:"note"`
	Satisfaction  *int       `json:"satisfaction" expect:"an integer from 1 to 5"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (s *server) disputeAction(c *gin.Context) {
	version, err := ifMatch(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var req disputeActionRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	if req.Action == nil {
		writeError(c, errs.Invalid("action", "required"))
		return
	}
	a := dispute.Act{Action: *req.Action, AssigneeID: deref(req.AssigneeID), HeldAt: req.HeldAt, Method: deref(req.Method),
		Attendees: req.Attendees, Notes: deref(req.Notes), PhotoIDs: req.PhotoIDs, Agreement: deref(req.Agreement),
		AmountSettled: req.AmountSettled, Reason: deref(req.Reason), To: deref(req.To), Note: deref(req.Note),
		Satisfaction: req.Satisfaction}
	d, err := s.disputes.Apply(c.Request.Context(), caller(c), c.Param("id"), version, a)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("ETag", etag(d.Version))
	c.JSON(http.StatusOK, s.newDisputeResponse(c, d, true, false))
}

type disputeEventResponse struct {
	eventResponse
	Payload json.RawMessage `json:"payload"`
}

func (s *server) disputeTimeline(c *gin.Context) {
	events, err := s.disputes.Timeline(c.Request.Context(), caller(c), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	out := make([]disputeEventResponse, len(events))
	for i, e := range events {
		out[i] = disputeEventResponse{eventResponse: eventResponse{ID: e.ID, Action: e.Action, To: string(e.To),
			ActorID: e.ActorID, Note: e.Note, RequestID: e.RequestID, CreatedAt: e.CreatedAt.UTC()},
			Payload: json.RawMessage("{}")}
		if e.From != "" {
			f := string(e.From)
			out[i].From = &f
		}
		if e.Payload != "" {
			out[i].Payload = json.RawMessage(e.Payload)
		}
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
}
