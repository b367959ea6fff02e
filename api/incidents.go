package api

import (
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"pingan/internal/access"
	"pingan/internal/errs"
	"pingan/internal/idempotency"
	"pingan/internal/incident"
)

type locationBody struct {
	Lat     *float64 `json:"lat" expect:"a number: degrees of latitude (WGS 84)"`
	Lng     *float64 `json:"lng" expect:"a number: degrees of longitude (WGS 84)"`
	Address *string  `json:"address"`
}

type createIncidentRequest struct {
	Category        *string       `json:"category"`
	Severity        *string       `json:"severity"`
	Description     *string       `json:"description"`
	Location        *locationBody `json:"location"`
	OccurredAt      *time.Time    `json:"occurred_at"`
	ClientCreatedAt *time.Time    `json:"client_created_at"`
	RegionCode      *string       `json:"region_code"`
	PhotoIDs        []string      `json:"photo_ids" max:"9"`
}

type locationResponse struct {
	Lat     *float64 `json:"lat"`
	Lng     *float64 `json:"lng"`
	Address string   `json:"address"`
}

type incidentResponse struct {
	ID              string           `json:"id"`
	CaseNo          string           `json:"case_no"`
	Category        string           `json:"category"`
	Severity        string           `json:"severity"`
	Status          string           `json:"status"`
	Description     string           `json:"description"`
	Location        locationResponse `json:"location"`
	RegionCode      string           `json:"region_code"`
	OccurredAt      time.Time        `json:"occurred_at"`
	ReportedAt      time.Time        `json:"reported_at"`
	ClientCreatedAt *time.Time       `json:"client_created_at"`
	ReporterID      string           `json:"reporter_id"`
	PhotoIDs        []string         `json:"photo_ids"`
	AllowedActions  []string         `json:"allowed_actions"`
	Version         int              `json:"version"`
	CreatedAt       time.Time        `json:"created_at"`
	UpdatedAt       time.Time        `json:"updated_at"`
}

// newIncidentResponse renders i for p, with the actions p may take on it now.
func newIncidentResponse(p access.Principal, i incident.Incident) incidentResponse {
	var cc *time.Time
	if i.ClientCreatedAt != nil {
		t := i.ClientCreatedAt.UTC()
		cc = &t
	}
	return incidentResponse{ID: i.ID, CaseNo: i.CaseNo, Category: i.Category, Severity: string(i.Severity), Status: string(i.Status),
		Description: i.Description, Location: locationResponse{Lat: i.Location.Lat, Lng: i.Location.Lng, Address: i.Location.Address},
		RegionCode: i.RegionCode, OccurredAt: i.OccurredAt.UTC(), ReportedAt: i.ReportedAt.UTC(), ClientCreatedAt: cc,
		ReporterID: i.ReporterID, PhotoIDs: i.PhotoIDs, AllowedActions: incident.AllowedActions(p, i), Version: i.Version,
		CreatedAt: i.CreatedAt.UTC(), UpdatedAt: i.UpdatedAt.UTC()}
}

type transitionRequest struct {
	Action *string `json:"action"`
	Note   *string `json:"note"`
}

type eventResponse struct {
	ID        string    `json:"id"`
	Action    string    `json:"action"`
	From      *string   `json:"from"`
	To        string    `json:"to"`
	ActorID   string    `json:"actor_id"`
	Note      string    `json:"note"`
	RequestID string    `json:"request_id"`
	CreatedAt time.Time `json:"created_at"`
}

// createIncident reports an incident; key is the request's idempotency
// record, finished with the response and written with the report
// (createOnce).
func (s *server) createIncident(c *gin.Context, key idempotency.Record) {
	var req createIncidentRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	in := incident.NewIncident{PhotoIDs: req.PhotoIDs, ClientCreatedAt: req.ClientCreatedAt}
	bad := errs.FieldErrors{}
	str := func(field string, v *string, dst *string) {
		if v == nil {
			bad.Add(field, "required")
			return
		}
		*dst = *v
	}
	var severity string
	str("category", req.Category, &in.Category)
	str("severity", req.Severity, &severity)
	str("description", req.Description, &in.Description)
	in.Severity = incident.Severity(severity)
	if req.OccurredAt == nil {
		bad.Add("occurred_at", "required")
	} else {
		in.OccurredAt = *req.OccurredAt
	}
	if req.Location != nil {
		in.Location = incident.Location{Lat: req.Location.Lat, Lng: req.Location.Lng}
		if req.Location.Address != nil {
			in.Location.Address = *req.Location.Address
		}
	}
	if req.RegionCode != nil {
		in.RegionCode = *req.RegionCode
	}
	if err := bad.Err(); err != nil {
		writeError(c, err)
		return
	}
	var answer idempotency.Record
	_, err := s.incidents.CreateIncident(c.Request.Context(), caller(c), in, func(inc incident.Incident) (idempotency.Record, error) {
		var err error
		answer, err = finished(key, http.StatusCreated, newIncidentResponse(caller(c), inc),
			"Location", "/api/v1/incidents/"+inc.ID, "ETag", etag(inc.Version))
		return answer, err
	})
	if err != nil {
		writeError(c, err)
		return
	}
	send(c, answer)
}

func (s *server) getIncident(c *gin.Context) {
	inc, err := s.incidents.FindIncident(c.Request.Context(), caller(c), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	if notModified(c, inc.Version) {
		return
	}
	c.JSON(http.StatusOK, newIncidentResponse(caller(c), inc))
}

// incidentFilters are the filters of the incident list and its export.
var incidentFilters = []string{"region", "status", "category", "severity", "from", "to", "reporter"}

// incidentQuery reads the incident list's filters (incidentFilters) into a
// query, adding what is wrong with them to bad.
func incidentQuery(c *gin.Context, bad errs.FieldErrors) incident.Query {
	q := incident.Query{Region: c.Query("region"), Filter: incident.Filter{
		Status: incident.Status(c.Query("status")), Category: c.Query("category"), Severity: incident.Severity(c.Query("severity"))}}
	if q.Status != "" && !q.Status.Valid() {
		bad.Add("status", "not an incident status")
	}
	if q.Severity != "" && !q.Severity.Valid() {
		bad.Add("severity", "one of low, medium, high, critical")
	}
	if len(q.Category) > 64 {
		bad.Add("category", "not a category code")
	}
	switch r := c.Query("reporter"); r {
	case "":
	case "me":
		q.ReporterMe = true
	default:
		bad.Add("reporter", `only "me" is supported`)
	}
	q.From, q.To = timeRange(c, bad)
	return q
}

func (s *server) listIncidents(c *gin.Context) {
	if err := checkQuery(c, slices.Concat(incidentFilters, []string{"limit", "cursor"})...); err != nil {
		writeError(c, err)
		return
	}
	limit, err := pageLimit(c)
	if err != nil {
		writeError(c, err)
		return
	}
	bad := errs.FieldErrors{}
	q := incidentQuery(c, bad)
	q.Limit = limit + 1
	q.BeforeAt, q.BeforeID = s.timeCursor(c, bad)
	if err := bad.Err(); err != nil {
		writeError(c, err)
		return
	}
	items, err := s.incidents.FindIncidents(c.Request.Context(), caller(c), q)
	if err != nil {
		writeError(c, err)
		return
	}
	p, out := caller(c), make([]incidentResponse, len(items))
	for i, it := range items {
		out[i] = newIncidentResponse(p, it)
	}
	c.JSON(http.StatusOK, newPage(out, limit, s.cursors, func(r incidentResponse) string {
		return joinPosition(r.CreatedAt, r.ID)
	}))
}

func (s *server) transitionIncident(c *gin.Context) {
	version, err := ifMatch(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var req transitionRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	if req.Action == nil {
		writeError(c, errs.Invalid("action", "required"))
		return
	}
	note := ""
	if req.Note != nil {
		note = *req.Note
	}
	inc, err := s.incidents.Transition(c.Request.Context(), caller(c), c.Param("id"), version, *req.Action, note)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("ETag", etag(inc.Version))
	c.JSON(http.StatusOK, newIncidentResponse(caller(c), inc))
}

func (s *server) incidentTimeline(c *gin.Context) {
	events, err := s.incidents.Timeline(c.Request.Context(), caller(c), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	out := make([]eventResponse, len(events))
	for i, e := range events {
		out[i] = eventResponse{ID: e.ID, Action: e.Action, To: string(e.To), ActorID: e.ActorID, Note: e.Note,
			RequestID: e.RequestID, CreatedAt: e.CreatedAt.UTC()}
		if e.From != "" {
			f := string(e.From)
			out[i].From = &f
		}
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
}
