package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"pingan/internal/errs"
	"pingan/internal/region"
	"pingan/internal/report"
)

// summaryFilters are the query parameters of the summary and its export.
var summaryFilters = []string{"region", "from", "to", "kind", "by"}

type regionRef struct {
	Code  string       `json:"code"`
	Name  string       `json:"name"`
	Level region.Level `json:"level"`
}

func newRegionRef(r region.Region) regionRef {
	return regionRef{Code: r.Code, Name: r.Name, Level: r.Level}
}

type periodResponse struct {
	From string `json:"from"`
	To   string `json:"to"`
	Days int    `json:"days"`
}

func newPeriod(p report.Period) periodResponse {
	return periodResponse{From: p.From, To: p.To, Days: p.Days}
}

type countResponse struct {
	Kind  string `json:"kind"`
	Key   string `json:"key"`
	Name  string `json:"name,omitempty"`
	Count int    `json:"count"`
}

type quantilesResponse struct {
	Median *float64 `json:"median"`
	P90    *float64 `json:"p90"`
}

type figureResponse struct {
	Reported struct {
		Total      int             `json:"total"`
		Incidents  int             `json:"incidents"`
		Disputes   int             `json:"disputes"`
		ByCategory []countResponse `json:"by_category"`
		ByStatus   []countResponse `json:"by_status"`
		ByLevel    []countResponse `json:"by_level"`
	} `json:"reported"`
	Resolved struct {
		Count                   int               `json:"count"`
		Incidents               int               `json:"incidents"`
		Disputes                int               `json:"disputes"`
		DaysToAccept            quantilesResponse `json:"days_to_accept"`
		DaysToResolve           quantilesResponse `json:"days_to_resolve"`
		CommunityResolutionRate *float64          `json:"community_resolution_rate"`
		ByLevel                 []countResponse   `json:"by_level"`
	} `json:"resolved"`
	Deadlines struct {
		Due        int      `json:"due"`
		Met        int      `json:"met"`
		Breached   int      `json:"breached"`
		OnTimeRate *float64 `json:"on_time_rate"`
	} `json:"deadlines"`
	FollowUps struct {
		Count            int      `json:"count"`
		MeanSatisfaction *float64 `json:"mean_satisfaction"`
	} `json:"follow_ups"`
	Open struct {
		AsOf    time.Time `json:"as_of"`
		Count   int       `json:"count"`
		Overdue int       `json:"overdue"`
	} `json:"open"`
}

type changeResponse struct {
	Reported                int      `json:"reported"`
	Incidents               int      `json:"incidents"`
	Disputes                int      `json:"disputes"`
	Resolved                int      `json:"resolved"`
	MedianDaysToAccept      *float64 `json:"median_days_to_accept"`
	MedianDaysToResolve     *float64 `json:"median_days_to_resolve"`
	CommunityResolutionRate *float64 `json:"community_resolution_rate"`
	Met                     int      `json:"met"`
	Breached                int      `json:"breached"`
	OnTimeRate              *float64 `json:"on_time_rate"`
	FollowUps               int      `json:"follow_ups"`
	MeanSatisfaction        *float64 `json:"mean_satisfaction"`
	Open                    int      `json:"open"`
	Overdue                 int      `json:"overdue"`
}

type figuresResponse struct {
	Current  figureResponse `json:"current"`
	Previous figureResponse `json:"previous"`
	Change   changeResponse `json:"change"`
}

type childSummaryResponse struct {
	Region regionRef `json:"region"`
	figuresResponse
}

type summaryResponse struct {
	Region         regionRef      `json:"region"`
	Kind           *string        `json:"kind"`
	Period         periodResponse `json:"period"`
	PreviousPeriod periodResponse `json:"previous_period"`
	figuresResponse
	Children []childSummaryResponse `json:"children,omitempty"`
}

func newCounts(cs []report.Count) []countResponse {
	out := make([]countResponse, len(cs))
	for i, c := range cs {
		out[i] = countResponse{Kind: c.Kind, Key: c.Key, Name: c.Name, Count: c.Count}
	}
	return out
}

func newFigure(f report.Figure) figureResponse {
	var r figureResponse
	r.Reported.Total, r.Reported.Incidents, r.Reported.Disputes = f.Reported.Total, f.Reported.Incidents, f.Reported.Disputes
	r.Reported.ByCategory, r.Reported.ByStatus, r.Reported.ByLevel = newCounts(f.Reported.ByCategory),
		newCounts(f.Reported.ByStatus), newCounts(f.Reported.ByLevel)
	r.Resolved.Count, r.Resolved.Incidents, r.Resolved.Disputes = f.Resolved.Count, f.Resolved.Incidents, f.Resolved.Disputes
	r.Resolved.DaysToAccept = quantilesResponse(f.Resolved.DaysToAccept)
	r.Resolved.DaysToResolve = quantilesResponse(f.Resolved.DaysToResolve)
	r.Resolved.CommunityResolutionRate, r.Resolved.ByLevel = f.Resolved.CommunityResolutionRate, newCounts(f.Resolved.ByLevel)
	r.Deadlines.Due, r.Deadlines.Met, r.Deadlines.Breached, r.Deadlines.OnTimeRate = f.Deadlines.Due, f.Deadlines.Met,
		f.Deadlines.Breached, f.Deadlines.OnTimeRate
	r.FollowUps.Count, r.FollowUps.MeanSatisfaction = f.FollowUps.Count, f.FollowUps.MeanSatisfaction
	r.Open.AsOf, r.Open.Count, r.Open.Overdue = f.Open.AsOf.UTC(), f.Open.Count, f.Open.Overdue
	return r
}

func newFigures(f report.Figures) figuresResponse {
	return figuresResponse{Current: newFigure(f.Current), Previous: newFigure(f.Previous), Change: changeResponse(f.Change)}
}

func newSummary(s report.Summary) summaryResponse {
	out := summaryResponse{Region: newRegionRef(s.Region), Period: newPeriod(s.Period),
		PreviousPeriod: newPeriod(s.PreviousPeriod), figuresResponse: newFigures(s.Figures)}
	if s.Kind != "" {
		out.Kind = &s.Kind
	}
	if s.Children != nil {
		out.Children = make([]childSummaryResponse, len(s.Children))
		for i, c := range s.Children {
			out.Children[i] = childSummaryResponse{Region: newRegionRef(c.Region), figuresResponse: newFigures(c.Figures)}
		}
	}
	return out
}

// summaryQuery reads the summary's filters (SPEC §11.1); by is "child" or
// absent.
func summaryQuery(c *gin.Context) (report.Query, error) {
	q := report.Query{Region: c.Query("region"), From: c.Query("from"), To: c.Query("to"), Kind: c.Query("kind")}
	switch by, ok := c.GetQuery("by"); {
	case !ok:
	case by == "child":
		q.ByChild = true
	default:
		return q, errs.Invalid("by", "child (the figures by child region), or leave it out")
	}
	return q, nil
}

func (s *server) summary(c *gin.Context) {
	if err := checkQuery(c, summaryFilters...); err != nil {
		writeError(c, err)
		return
	}
	q, err := summaryQuery(c)
	if err != nil {
		writeError(c, err)
		return
	}
	sum, err := s.reports.Summary(c.Request.Context(), caller(c), q)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, newSummary(sum))
}
