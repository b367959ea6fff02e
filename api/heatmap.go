package api

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"pingan/internal/heatmap"
)

// The heat map (SPEC §11.2): GeoJSON (RFC 7946) for a map library to draw,
// the query echoed in foreign members beside the features.

// polygon is a GeoJSON Polygon: one exterior ring, [lng, lat] positions.
type polygon struct {
	Type        string         `json:"type"`
	Coordinates [][][2]float64 `json:"coordinates"`
}

type cellProperties struct {
	Geohash string `json:"geohash"`
	Count   int    `json:"count"`
}

type cellFeature struct {
	Type       string         `json:"type"`
	Geometry   polygon        `json:"geometry"`
	Properties cellProperties `json:"properties"`
}

// heatmapResponse is the map by cell.
type heatmapResponse struct {
	Type       string        `json:"type"`
	Features   []cellFeature `json:"features"`
	Region     string        `json:"region"`
	From       string        `json:"from"`
	To         string        `json:"to"`
	Kind       *string       `json:"kind"`
	Category   *string       `json:"category"`
	Precision  int           `json:"precision"`
	Total      int           `json:"total"`
	Suppressed int           `json:"suppressed"`
	Unlocated  int           `json:"unlocated"`
}

type communityProperties struct {
	Code       string   `json:"code"`
	Name       string   `json:"name"`
	Count      int      `json:"count"`
	Population int64    `json:"population"`
	RatePer10k *float64 `json:"rate_per_10k"`
}

type communityFeature struct {
	Type       string              `json:"type"`
	Geometry   json.RawMessage     `json:"geometry"`
	Properties communityProperties `json:"properties"`
}

// regionHeatmapResponse is the map by region (a choropleth).
type regionHeatmapResponse struct {
	Type     string             `json:"type"`
	Features []communityFeature `json:"features"`
	Region   string             `json:"region"`
	From     string             `json:"from"`
	To       string             `json:"to"`
	Kind     *string            `json:"kind"`
	Category *string            `json:"category"`
	By       string             `json:"by"`
	Total    int                `json:"total"`
	Unlisted int                `json:"unlisted"`
}

// cellPolygon is the cell's box as a closed ring, counter-clockwise (RFC
// 7946 §3.1.6): south-west, south-east, north-east, north-west, south-west.
func cellPolygon(c heatmap.Cell) polygon {
	b := c.Box()
	ring := [][2]float64{{b.MinLng, b.MinLat}, {b.MaxLng, b.MinLat}, {b.MaxLng, b.MaxLat}, {b.MinLng, b.MaxLat},
		{b.MinLng, b.MinLat}}
	return polygon{Type: "Polygon", Coordinates: [][][2]float64{ring}}
}

func newHeatmapResponse(m heatmap.Map) heatmapResponse {
	out := heatmapResponse{Type: "FeatureCollection", Features: make([]cellFeature, len(m.Cells)), Region: m.Region,
		From: m.From, To: m.To, Kind: strPtr(m.Kind), Category: strPtr(m.Category), Precision: m.Precision,
		Total: m.Total, Suppressed: m.Suppressed, Unlocated: m.Unlocated}
	for i, c := range m.Cells {
		out.Features[i] = cellFeature{Type: "Feature", Geometry: cellPolygon(c),
			Properties: cellProperties{Geohash: c.Geohash, Count: c.Count}}
	}
	return out
}

func newRegionHeatmapResponse(m heatmap.Map) regionHeatmapResponse {
	out := regionHeatmapResponse{Type: "FeatureCollection", Features: make([]communityFeature, len(m.Communities)),
		Region: m.Region, From: m.From, To: m.To, Kind: strPtr(m.Kind), Category: strPtr(m.Category), By: "region",
		Total: m.Total, Unlisted: m.Unlisted}
	for i, c := range m.Communities {
		geometry := json.RawMessage("null")
		if len(c.Boundary) > 0 {
			geometry = c.Boundary
		}
		out.Features[i] = communityFeature{Type: "Feature", Geometry: geometry, Properties: communityProperties{
			Code: c.Code, Name: c.Name, Count: c.Count, Population: c.Population, RatePer10k: c.RatePer10k}}
	}
	return out
}

func (s *server) heatmap(c *gin.Context) {
	if err := checkQuery(c, "region", "from", "to", "kind", "category", "precision", "by"); err != nil {
		writeError(c, err)
		return
	}
	q := heatmap.Query{Region: c.Query("region"), From: c.Query("from"), To: c.Query("to"), Kind: c.Query("kind"),
		Category: c.Query("category"), Precision: c.Query("precision"), By: c.Query("by")}
	m, err := s.heatmaps.Find(c.Request.Context(), caller(c), q)
	if err != nil {
		writeError(c, err)
		return
	}
	// RFC 7946's media type: what a map library fetches.
	c.Header("Content-Type", "application/geo+json; charset=utf-8")
	if m.ByRegion {
		c.JSON(http.StatusOK, newRegionHeatmapResponse(m))
		return
	}
	c.JSON(http.StatusOK, newHeatmapResponse(m))
}
