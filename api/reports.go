package api

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"pingan/internal/errs"
	"pingan/internal/export"
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

var summaryHeader = []string{"地区编码", "地区", "层级", "期间", "起", "止", "上报总数", "事件", "矛盾纠纷", "化解数",
	"受理天数中位数", "受理天数P90", "化解天数中位数", "化解天数P90", "就地化解率", "到期期限", "按期", "逾期", "按期率",
	"回访数", "平均满意度", "期末未结", "期末逾期"}

// exportSummary is the summary as a table (SPEC §11.5): for the region,
// then each child (by=child), three rows — 本期, 上期 and 变化 (the change)
// — of the headline figures; rates as fractions, days to two decimals, an
// empty cell where a figure is null.
func (s *server) exportSummary(c *gin.Context) {
	if !exportParams(c, summaryFilters) {
		return
	}
	bad := errs.FieldErrors{}
	format := exportFormat(c, bad)
	if err := bad.Err(); err != nil {
		writeError(c, err)
		return
	}
	q, err := summaryQuery(c)
	if err != nil {
		writeError(c, err)
		return
	}
	// The period names the file before the summary is computed.
	period, err := report.ParsePeriod(q.From, q.To, s.reports.Location(), s.now())
	if err != nil {
		writeError(c, err)
		return
	}
	p := caller(c)
	next := func(ctx context.Context) ([][]export.Cell, bool, error) {
		sum, err := s.reports.Summary(ctx, p, q)
		if err != nil {
			return nil, false, err
		}
		rows := summaryRows(sum.Region, sum.Period, sum.PreviousPeriod, sum.Figures)
		for _, ch := range sum.Children {
			rows = append(rows, summaryRows(ch.Region, sum.Period, sum.PreviousPeriod, ch.Figures)...)
		}
		return rows, false, nil
	}
	s.runExport(c, exportJob{kind: export.Summary, title: "平安建设统计摘要", format: format, region: q.Region,
		period: period.From + "_" + period.To, header: summaryHeader, filters: exportFilters(c, summaryFilters), next: next})
}

func summaryRows(r region.Region, cur, prev report.Period, f report.Figures) [][]export.Cell {
	opt := func(v *float64) export.Cell {
		if v == nil {
			return export.Cell{}
		}
		return export.Number(*v)
	}
	place := []export.Cell{export.Text(r.Code), export.Text(r.Name), export.Text(label(levelZH, r.Level))}
	figure := func(name string, p report.Period, g report.Figure) []export.Cell {
		return append(slices.Clone(place), export.Text(name), export.Text(p.From), export.Text(p.To),
			export.Int(g.Reported.Total), export.Int(g.Reported.Incidents), export.Int(g.Reported.Disputes),
			export.Int(g.Resolved.Count), opt(g.Resolved.DaysToAccept.Median), opt(g.Resolved.DaysToAccept.P90),
			opt(g.Resolved.DaysToResolve.Median), opt(g.Resolved.DaysToResolve.P90), opt(g.Resolved.CommunityResolutionRate),
			export.Int(g.Deadlines.Due), export.Int(g.Deadlines.Met), export.Int(g.Deadlines.Breached),
			opt(g.Deadlines.OnTimeRate), export.Int(g.FollowUps.Count), opt(g.FollowUps.MeanSatisfaction),
			export.Int(g.Open.Count), export.Int(g.Open.Overdue))
	}
	ch := f.Change
	change := append(slices.Clone(place), export.Text("变化"), export.Cell{}, export.Cell{},
		export.Int(ch.Reported), export.Int(ch.Incidents), export.Int(ch.Disputes), export.Int(ch.Resolved),
		opt(ch.MedianDaysToAccept), export.Cell{}, opt(ch.MedianDaysToResolve), export.Cell{}, opt(ch.CommunityResolutionRate),
		export.Int(f.Current.Deadlines.Due-f.Previous.Deadlines.Due), export.Int(ch.Met), export.Int(ch.Breached),
		opt(ch.OnTimeRate), export.Int(ch.FollowUps), opt(ch.MeanSatisfaction), export.Int(ch.Open), export.Int(ch.Overdue))
	return [][]export.Cell{figure("本期", cur, f.Current), figure("上期", prev, f.Previous), change}
}
