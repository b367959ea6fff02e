package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"pingan/internal/errs"
	"pingan/internal/index"
	"pingan/internal/ranking"
	"pingan/internal/region"
)

func (s *server) loc() *time.Location { return s.ranking.Location() }

type rankRegion struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	Level      string `json:"level"`
	ParentCode string `json:"parent_code"`
}

type rankChange struct {
	Score float64 `json:"score"`
	Rank  int     `json:"rank"`
}

type rankIndicator struct {
	Code         string   `json:"code"`
	NameZH       *string  `json:"name_zh"`
	Weight       *float64 `json:"weight"`
	Contribution *float64 `json:"contribution"`
	Value        *float64 `json:"value"`
	Rate         *float64 `json:"rate"`
	RateSmoothed *float64 `json:"rate_smoothed"`
	Mu           *float64 `json:"mu"`
	D            *float64 `json:"d"`
	RankSelf     *int     `json:"rank_self"`
	RankCross    *int     `json:"rank_cross"`
	ScoreSelf    *float64 `json:"score_self"`
	ScoreCross   *float64 `json:"score_cross"`
	Score        *float64 `json:"score"`
	Change       *float64 `json:"change"`
}

type rankItem struct {
	Rank         *int            `json:"rank"`
	RankInParent *int            `json:"rank_in_parent"`
	Region       rankRegion      `json:"region"`
	Score        *float64        `json:"score"`
	Band         *string         `json:"band"`
	BandLabel    *string         `json:"band_label"`
	Change       *rankChange     `json:"change"`
	Complete     bool            `json:"complete"`
	Missing      []string        `json:"missing"`
	Indicators   []rankIndicator `json:"indicators"`
}

func optFloat(v index.Value) *float64 {
	if !v.Valid {
		return nil
	}
	x := v.X
	return &x
}

func ptr[T any](v T) *T { return &v }

func newRankItem(it ranking.Item) rankItem {
	d := it.Detail.Score
	out := rankItem{Region: rankRegion{Code: it.Region.Code, Name: it.Region.Name, Level: string(it.Region.Level),
		ParentCode: it.Region.ParentCode}, Complete: d.Complete, Missing: d.Missing}
	if out.Missing == nil {
		out.Missing = []string{}
	}
	if d.Scored {
		out.Rank, out.Score = ptr(it.Rank), ptr(it.Score)
		out.Band, out.BandLabel = ptr(string(it.Band)), ptr(it.Band.Label())
		if it.RankInParent > 0 {
			out.RankInParent = ptr(it.RankInParent)
		}
		if p := it.Previous; p != nil && p.Rank > 0 {
			// Rank change: positive when the region moved up.
			out.Change = &rankChange{Score: it.Score - p.Score, Rank: p.Rank - it.Rank}
		}
	}
	for n, s := range d.Indicators {
		ri := rankIndicator{}
		if n < len(it.Indicators) {
			ii := it.Indicators[n]
			ri.Code, ri.Change = ii.Code, optFloat(ii.Change)
			if ii.NameZH != "" {
				ri.NameZH = ptr(ii.NameZH)
			}
		}
		if s.Present {
			ri.Weight, ri.Value = ptr(s.Weight), ptr(s.Value)
			ri.Rate, ri.RateSmoothed, ri.Mu = optFloat(s.Rate), optFloat(s.RateSmoothed), optFloat(s.Mu)
			ri.D, ri.RankSelf, ri.RankCross = ptr(s.D), ptr(s.RankSelf), ptr(s.RankCross)
			ri.ScoreSelf, ri.ScoreCross, ri.Score = ptr(s.ScoreSelf), ptr(s.ScoreCross), ptr(s.Score)
			if d.Scored {
				ri.Contribution = ptr(s.Contribution)
			}
		}
		out.Indicators = append(out.Indicators, ri)
	}
	if out.Indicators == nil {
		out.Indicators = []rankIndicator{}
	}
	return out
}

// rankingFilters are the parameters of the rankings and their export.
var rankingFilters = []string{"level", "period", "at", "parent"}

// rankingQuery reads the level and period of the rankings, adding what is
// wrong with them to bad; parent is the service's to check.
func (s *server) rankingQuery(c *gin.Context, bad errs.FieldErrors) (level region.Level, kind, at string) {
	level = region.Level(c.Query("level"))
	switch level {
	case region.County, region.Township, region.Community:
	default:
		bad.Add("level", "county, township or community")
	}
	kind, at = c.Query("period"), c.Query("at")
	checkPeriod(bad, s.loc(), "period", kind, "at", at)
	return level, kind, at
}

func (s *server) rankings(c *gin.Context) {
	if err := checkQuery(c, rankingFilters...); err != nil {
		writeError(c, err)
		return
	}
	bad := errs.FieldErrors{}
	level, kind, at := s.rankingQuery(c, bad)
	if err := bad.Err(); err != nil {
		writeError(c, err)
		return
	}
	rk, err := s.ranking.Rankings(c.Request.Context(), caller(c), level, at, c.Query("parent"))
	if err != nil {
		writeError(c, err)
		return
	}
	out := make([]rankItem, len(rk.Items))
	for i, it := range rk.Items {
		out[i] = newRankItem(it)
	}
	var job *jobResponse
	if rk.Job != nil {
		job = ptr(newJobResponse(*rk.Job))
	}
	c.JSON(http.StatusOK, gin.H{"level": level, "period": kind, "at": at, "computed_at": computedAt(rk.ComputedAt), "job": job,
		"items": out})
}

// computedAt is when results were computed, in UTC; nil (JSON null) for
// the zero time: not computed.
func computedAt(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return ptr(t.UTC())
}

type seriesPoint struct {
	Period     string     `json:"period"`
	Score      *float64   `json:"score"`
	Rank       *int       `json:"rank"`
	Band       *string    `json:"band"`
	Complete   bool       `json:"complete"`
	ComputedAt *time.Time `json:"computed_at"`
}

func (s *server) series(c *gin.Context) {
	if err := checkQuery(c, "region", "period", "from", "to"); err != nil {
		writeError(c, err)
		return
	}
	bad := errs.FieldErrors{}
	kind, from, to := c.Query("period"), c.Query("from"), c.Query("to")
	checkPeriod(bad, s.loc(), "period", kind, "from", from)
	checkPeriod(bad, s.loc(), "period", kind, "to", to)
	if len(bad) == 0 && from > to {
		bad.Add("to", "must not be before from")
	}
	if c.Query("region") == "" {
		bad.Add("region", "required")
	}
	if err := bad.Err(); err != nil {
		writeError(c, err)
		return
	}
	rows, err := s.ranking.Series(c.Request.Context(), caller(c), c.Query("region"), kind, from, to)
	if err != nil {
		writeError(c, err)
		return
	}
	out := make([]seriesPoint, len(rows))
	var latest time.Time
	for i, r := range rows {
		out[i] = seriesPoint{Period: r.Period, Complete: r.Complete, ComputedAt: computedAt(r.ComputedAt)}
		if r.Rank > 0 {
			out[i].Score, out[i].Rank, out[i].Band = ptr(r.Score), ptr(r.Rank), ptr(string(r.Band))
		}
		if r.ComputedAt.After(latest) {
			latest = r.ComputedAt
		}
	}
	c.JSON(http.StatusOK, gin.H{"region": c.Query("region"), "period": kind, "computed_at": computedAt(latest), "items": out})
}

type recomputeRequest struct {
	Period *string `json:"period"`
	At     *string `json:"at"`
}

type jobResponse struct {
	ID         string     `json:"id"`
	Period     string     `json:"period"`
	Status     string     `json:"status"`
	Reason     string     `json:"reason"`
	Error      *string    `json:"error"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at"`
}

func newJobResponse(j ranking.Job) jobResponse {
	out := jobResponse{ID: j.ID, Period: j.Period, Status: j.Status, Reason: j.Reason, CreatedAt: j.CreatedAt.UTC(),
		FinishedAt: utcPtr(j.FinishedAt)}
	if j.Error != "" {
		out.Error = &j.Error
	}
	return out
}

// recompute queues a period ({period: day|month, at}) and answers at once.
func (s *server) recompute(c *gin.Context) {
	var req recomputeRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	bad := errs.FieldErrors{}
	checkPeriod(bad, s.loc(), "period", deref(req.Period), "at", deref(req.At))
	if err := bad.Err(); err != nil {
		writeError(c, err)
		return
	}
	j, err := s.ranking.RequestRecompute(c.Request.Context(), caller(c), *req.At)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Location", "/api/v1/index/jobs/"+j.ID)
	c.JSON(http.StatusAccepted, newJobResponse(j))
}

func (s *server) getJob(c *gin.Context) {
	j, err := s.ranking.Job(c.Request.Context(), caller(c), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	sendTagged(c, newJobResponse(j))
}
