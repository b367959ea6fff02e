package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"pingan/internal/warning"
)

// The key-date calendar (SPEC §10.2, §10.3): named events with their dates
// in every year, read by whoever reads warnings and kept by admins.

type dateRangeBody struct {
	Start string `json:"start" expect:"a local day, e.g. 2027-02-06"`
	End   string `json:"end" expect:"a local day, e.g. 2027-02-12"`
}

// The max tags are warning.MaxDates: past it the body is refused before
// its dates are read.
type createKeyDateRequest struct {
	Name  *string         `json:"name"`
	Dates []dateRangeBody `json:"dates" max:"50"`
}

type patchKeyDateRequest struct {
	Name  *string         `json:"name"`
	Dates []dateRangeBody `json:"dates" max:"50"`
}

type dateRangeResponse struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type keyDateResponse struct {
	ID        string              `json:"id"`
	Name      string              `json:"name"`
	Dates     []dateRangeResponse `json:"dates"`
	Upcoming  []dateRangeResponse `json:"upcoming"`
	Version   int                 `json:"version"`
	CreatedAt time.Time           `json:"created_at"`
	UpdatedAt time.Time           `json:"updated_at"`
}

// newKeyDateResponse renders e; its upcoming dates are those starting on
// today (a local day) or later.
func newKeyDateResponse(e warning.Event, today string) keyDateResponse {
	out := keyDateResponse{ID: e.ID, Name: e.Name, Dates: []dateRangeResponse{}, Upcoming: []dateRangeResponse{},
		Version: e.Version, CreatedAt: e.CreatedAt.UTC(), UpdatedAt: e.UpdatedAt.UTC()}
	for _, d := range e.Dates {
		r := dateRangeResponse{Start: d.Start, End: d.End}
		out.Dates = append(out.Dates, r)
		if d.Start >= today {
			out.Upcoming = append(out.Upcoming, r)
		}
	}
	return out
}

// today is the local day now.
func (s *server) today() string { return s.now().In(s.loc()).Format(time.DateOnly) }

func dateRanges(in []dateRangeBody) []warning.DateRange {
	out := make([]warning.DateRange, len(in))
	for i, d := range in {
		out[i] = warning.DateRange{Start: d.Start, End: d.End}
	}
	return out
}

func (s *server) listKeyDates(c *gin.Context) {
	es, err := s.warnings.FindKeyDates(c.Request.Context(), caller(c))
	if err != nil {
		writeError(c, err)
		return
	}
	today := s.today()
	out := make([]keyDateResponse, len(es))
	for i, e := range es {
		out[i] = newKeyDateResponse(e, today)
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
}

func (s *server) getKeyDate(c *gin.Context) {
	e, err := s.warnings.FindKeyDate(c.Request.Context(), caller(c), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	if notModified(c, e.Version) {
		return
	}
	c.JSON(http.StatusOK, newKeyDateResponse(e, s.today()))
}

func (s *server) createKeyDate(c *gin.Context) {
	var req createKeyDateRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	e, err := s.warnings.CreateKeyDate(c.Request.Context(), caller(c),
		warning.NewEvent{Name: deref(req.Name), Dates: dateRanges(req.Dates)})
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Location", "/api/v1/key-dates/"+e.ID)
	c.Header("ETag", etag(e.Version))
	c.JSON(http.StatusCreated, newKeyDateResponse(e, s.today()))
}

func (s *server) patchKeyDate(c *gin.Context) {
	// If-Match is optional: with it, two admins editing at once cannot
	// overwrite each other (412).
	var version int
	if c.GetHeader("If-Match") != "" {
		var err error
		if version, err = ifMatch(c); err != nil {
			writeError(c, err)
			return
		}
	}
	var req patchKeyDateRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	patch := warning.EventPatch{Name: req.Name, Version: version}
	if req.Dates != nil {
		ds := dateRanges(req.Dates)
		patch.Dates = &ds
	}
	e, err := s.warnings.UpdateKeyDate(c.Request.Context(), caller(c), c.Param("id"), patch)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("ETag", etag(e.Version))
	c.JSON(http.StatusOK, newKeyDateResponse(e, s.today()))
}
