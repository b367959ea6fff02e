package api

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"pingan/internal/access"
	"pingan/internal/errs"
	"pingan/internal/warning"
)

// Early warnings (SPEC §10.3): the scope-filtered list, one warning, and
// its two actions.

type dayCountResponse struct {
	Day   string `json:"day"`
	Count int    `json:"count"`
}

type periodFigureResponse struct {
	Period string   `json:"period"`
	Score  *float64 `json:"score"`
	Band   string   `json:"band"`
	Rank   int      `json:"rank"`
}

type keyDateFigureResponse struct {
	Start  string   `json:"start"`
	Window int      `json:"window"`
	Before int      `json:"before"`
	Ratio  *float64 `json:"ratio"`
}

type keyDateRiseResponse struct {
	CaseKind string                  `json:"case_kind"`
	Category *string                 `json:"category"`
	Years    []keyDateFigureResponse `json:"years"`
}

type keyDateDetailResponse struct {
	EventID string                `json:"event_id"`
	Name    string                `json:"name"`
	Start   string                `json:"start"`
	End     string                `json:"end"`
	Rises   []keyDateRiseResponse `json:"rises"`
}

// warningDetailResponse is what a warning keeps beside its figures; each
// part is null for the kinds that have none.
type warningDetailResponse struct {
	Periods []periodFigureResponse `json:"periods"`
	Peers   *int                   `json:"peers"`
	KeyDate *keyDateDetailResponse `json:"key_date"`
}

type warningResponse struct {
	ID             string                `json:"id"`
	Kind           string                `json:"kind"`
	RegionCode     string                `json:"region_code"`
	RegionName     *string               `json:"region_name"`
	Level          string                `json:"level"`
	CaseKind       *string               `json:"case_kind"`
	Category       *string               `json:"category"`
	PeriodKind     string                `json:"period_kind"`
	FirstDay       string                `json:"first_day"`
	LastDay        string                `json:"last_day"`
	Method         *string               `json:"method"`
	Methods        []string              `json:"methods"`
	Observed       float64               `json:"observed"`
	Expected       *float64              `json:"expected"`
	Threshold      *float64              `json:"threshold"`
	Statistic      *float64              `json:"statistic"`
	P              *float64              `json:"p"`
	Severity       string                `json:"severity"`
	Status         string                `json:"status"`
	Series         []dayCountResponse    `json:"series"`
	Detail         warningDetailResponse `json:"detail"`
	Summary        string                `json:"summary"`
	AckedBy        *string               `json:"acked_by"`
	AckedAt        *time.Time            `json:"acked_at"`
	ClosedBy       *string               `json:"closed_by"`
	ClosedAt       *time.Time            `json:"closed_at"`
	CloseNote      *string               `json:"close_note"`
	AllowedActions []string              `json:"allowed_actions"`
	Version        int                   `json:"version"`
	CreatedAt      time.Time             `json:"created_at"`
	UpdatedAt      time.Time             `json:"updated_at"`
}

func newWarningResponse(w warning.Warning, regionName *string) warningResponse {
	out := warningResponse{ID: w.ID, Kind: w.Kind, RegionCode: w.RegionCode, RegionName: regionName, Level: w.Level,
		CaseKind: strPtr(w.CaseKind), Category: strPtr(w.Category), PeriodKind: w.PeriodKind, FirstDay: w.FirstDay,
		LastDay: w.LastDay, Method: strPtr(w.Method), Methods: w.Methods, Observed: w.Observed, Expected: w.Expected,
		Threshold: w.Threshold, Statistic: w.Statistic, P: w.P, Severity: string(w.Severity), Status: w.Status,
		Series: make([]dayCountResponse, len(w.Series)), Detail: newWarningDetail(w.Detail), Summary: w.Summary,
		AckedBy: strPtr(w.AckedBy), AckedAt: utcPtr(w.AckedAt), ClosedBy: strPtr(w.ClosedBy), ClosedAt: utcPtr(w.ClosedAt),
		CloseNote: strPtr(w.CloseNote), AllowedActions: warning.AllowedActions(w), Version: w.Version,
		CreatedAt: w.CreatedAt.UTC(), UpdatedAt: w.UpdatedAt.UTC()}
	if out.Methods == nil {
		out.Methods = []string{}
	}
	for i, d := range w.Series {
		out.Series[i] = dayCountResponse{Day: d.Day, Count: d.Count}
	}
	return out
}

func newWarningDetail(d warning.Detail) warningDetailResponse {
	var out warningDetailResponse
	for _, p := range d.Periods {
		out.Periods = append(out.Periods, periodFigureResponse{Period: p.Period, Score: p.Score, Band: p.Band, Rank: p.Rank})
	}
	if d.Peers > 0 {
		out.Peers = ptr(d.Peers)
	}
	if k := d.KeyDate; k != nil {
		kd := &keyDateDetailResponse{EventID: k.EventID, Name: k.Name, Start: k.Start, End: k.End,
			Rises: make([]keyDateRiseResponse, len(k.Rises))}
		for i, r := range k.Rises {
			kd.Rises[i] = keyDateRiseResponse{CaseKind: r.CaseKind, Category: strPtr(r.Category),
				Years: make([]keyDateFigureResponse, len(r.Years))}
			for j, y := range r.Years {
				kd.Rises[i].Years[j] = keyDateFigureResponse{Start: y.Start, Window: y.Window, Before: y.Before, Ratio: y.Ratio}
			}
		}
		out.KeyDate = kd
	}
	return out
}

// regionNames looks up region names for p, once per code: supervisors read
// names, not codes. A region that is gone has no name (null).
type regionNames struct {
	s     *server
	p     access.Principal
	names map[string]*string
}

func (s *server) regionNames(p access.Principal) *regionNames {
	return &regionNames{s: s, p: p, names: map[string]*string{}}
}

func (n *regionNames) of(ctx context.Context, code string) (*string, error) {
	if name, ok := n.names[code]; ok {
		return name, nil
	}
	r, err := n.s.regions.FindRegion(ctx, n.p, code)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		n.names[code] = nil
	case err != nil:
		return nil, err
	default:
		n.names[code] = &r.Name
	}
	return n.names[code], nil
}

// warningResponses renders ws for c's caller.
func (s *server) warningResponses(c *gin.Context, ws ...warning.Warning) ([]warningResponse, error) {
	names := s.regionNames(caller(c))
	out := make([]warningResponse, len(ws))
	for i, w := range ws {
		name, err := names.of(c.Request.Context(), w.RegionCode)
		if err != nil {
			return nil, err
		}
		out[i] = newWarningResponse(w, name)
	}
	return out, nil
}

// warningFilters are the filters of the warning list and its export.
var warningFilters = []string{"status", "region", "kind", "severity", "from", "to"}

// warningQuery reads the warning list's filters (warningFilters); the
// service checks their values.
func warningQuery(c *gin.Context) warning.Query {
	return warning.Query{Region: c.Query("region"), Status: c.Query("status"), Kind: c.Query("kind"),
		Severity: warning.Severity(c.Query("severity")), From: c.Query("from"), To: c.Query("to")}
}

func (s *server) listWarnings(c *gin.Context) {
	if err := checkQuery(c, slices.Concat(warningFilters, []string{"limit", "cursor"})...); err != nil {
		writeError(c, err)
		return
	}
	limit, err := pageLimit(c)
	if err != nil {
		writeError(c, err)
		return
	}
	q := warningQuery(c)
	q.Limit = limit + 1
	bad := errs.FieldErrors{}
	if at, id := s.timeCursor(c, bad); id != "" {
		q.BeforeAt, q.BeforeID = &at, id
	}
	if err := bad.Err(); err != nil {
		writeError(c, err)
		return
	}
	items, err := s.warnings.FindWarnings(c.Request.Context(), caller(c), q)
	if err != nil {
		writeError(c, err)
		return
	}
	out, err := s.warningResponses(c, items...)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, newPage(out, limit, s.cursors, func(r warningResponse) string {
		return joinPosition(r.CreatedAt, r.ID)
	}))
}

func (s *server) getWarning(c *gin.Context) {
	w, err := s.warnings.FindWarning(c.Request.Context(), caller(c), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	if notModified(c, w.Version) {
		return
	}
	out, err := s.warningResponses(c, w)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, out[0])
}

type closeWarningRequest struct {
	Note *string `json:"note"`
}

func (s *server) ackWarning(c *gin.Context)   { s.actOnWarning(c, warning.ActionAck) }
func (s *server) closeWarning(c *gin.Context) { s.actOnWarning(c, warning.ActionClose) }

// actOnWarning takes action on the warning, under an optional If-Match
// that the service checks against the version it locks.
func (s *server) actOnWarning(c *gin.Context, action string) {
	want, conditional := 0, c.GetHeader("If-Match") != ""
	if conditional {
		var err error
		if want, err = ifMatch(c); err != nil {
			writeError(c, err)
			return
		}
	}
	// The body is optional: none, or an object ({} for ack, {note} for close).
	var req closeWarningRequest
	var into any = &struct{}{}
	if action == warning.ActionClose {
		into = &req
	}
	data, err := readBodyOf(c, jsonBody)
	if err == nil && len(bytes.TrimSpace(data)) > 0 {
		err = decodeStrict(data, into)
	}
	if err != nil {
		writeError(c, err)
		return
	}
	ctx, p, id := c.Request.Context(), caller(c), c.Param("id")
	var w warning.Warning
	if action == warning.ActionAck {
		w, err = s.warnings.Ack(ctx, p, id, want)
	} else {
		w, err = s.warnings.Close(ctx, p, id, deref(req.Note), want)
	}
	if err != nil {
		writeError(c, err)
		return
	}
	out, err := s.warningResponses(c, w)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("ETag", etag(w.Version))
	c.JSON(http.StatusOK, out[0])
}
