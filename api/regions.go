package api

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"pingan/internal/errs"
	"pingan/internal/region"
)

type pointResponse struct {
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
}

type regionResponse struct {
	Code       string          `json:"code"`
	Name       string          `json:"name"`
	Level      string          `json:"level"`
	ParentCode *string         `json:"parent_code"`
	Population int64           `json:"population"`
	Centroid   *pointResponse  `json:"centroid"`
	Boundary   json.RawMessage `json:"boundary,omitempty"`
}

func newRegionResponse(r region.Region, withBoundary bool) regionResponse {
	out := regionResponse{Code: r.Code, Name: r.Name, Level: string(r.Level), Population: r.Population}
	if r.ParentCode != "" {
		p := r.ParentCode
		out.ParentCode = &p
	}
	if r.Centroid != nil {
		out.Centroid = &pointResponse{Lat: r.Centroid.Lat, Lng: r.Centroid.Lng}
	}
	if withBoundary {
		out.Boundary = json.RawMessage("null")
		if len(r.Boundary) > 0 {
			out.Boundary = r.Boundary
		}
	}
	return out
}

func (s *server) listRegions(c *gin.Context) {
	if err := checkQuery(c, "parent", "level", "limit", "cursor"); err != nil {
		writeError(c, err)
		return
	}
	limit, err := pageLimit(c)
	if err != nil {
		writeError(c, err)
		return
	}
	after, err := s.cursors.decode(c)
	if err != nil {
		writeError(c, err)
		return
	}
	f := region.Filter{Parent: c.Query("parent"), Level: region.Level(c.Query("level")), After: after, Limit: limit + 1}
	if f.Level != "" && !f.Level.Valid() {
		writeError(c, errs.Invalid("level", "one of city, county, township, community, grid"))
		return
	}
	if f.Parent != "" && !region.ValidCode(f.Parent) {
		writeError(c, errs.Invalid("parent", "not a region code"))
		return
	}
	rs, err := s.regions.FindRegions(c.Request.Context(), caller(c), f)
	if err != nil {
		writeError(c, err)
		return
	}
	out := make([]regionResponse, len(rs))
	for i, r := range rs {
		out[i] = newRegionResponse(r, false)
	}
	c.JSON(http.StatusOK, newPage(out, limit, s.cursors, func(r regionResponse) string { return r.Code }))
}

func (s *server) getRegion(c *gin.Context) {
	r, err := s.regions.FindRegion(c.Request.Context(), caller(c), c.Param("code"))
	if err != nil {
		writeError(c, err)
		return
	}
	sendTagged(c, newRegionResponse(r, true))
}

func (s *server) importRegions(c *gin.Context) {
	data, err := readBody(c, maxImportBody)
	if err != nil {
		writeError(c, err)
		return
	}
	n, err := s.regions.Import(c.Request.Context(), caller(c), data)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"imported": n})
}
