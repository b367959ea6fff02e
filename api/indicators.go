package api

import (
	"fmt"
	"mime"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"pingan/internal/errs"
	"pingan/internal/index"
	"pingan/internal/indicator"
)

type filterBody struct {
	Case       string   `json:"case"`
	Categories []string `json:"categories" max:"50"`
}

type indicatorResponse struct {
	Code      string      `json:"code"`
	NameZH    string      `json:"name_zh"`
	NameEN    string      `json:"name_en"`
	Direction string      `json:"direction"`
	Weight    float64     `json:"weight"`
	Periods   []string    `json:"periods"`
	Levels    []string    `json:"levels"`
	Source    string      `json:"source"`
	Method    *string     `json:"method"`
	Filter    *filterBody `json:"filter"`
	PerCapita bool        `json:"per_capita"`
	Smoothing *string     `json:"smoothing"`
	Window    int         `json:"window"`
	Alpha     float64     `json:"alpha"`
	Mapping   string      `json:"mapping"`
	Step      *float64    `json:"step"`
	Floor     float64     `json:"floor"`
	Tolerance float64     `json:"tolerance"`
	Active    bool        `json:"active"`
	Version   int         `json:"version"`
	UpdatedAt time.Time   `json:"updated_at"`
}

func newIndicatorResponse(i indicator.Indicator) indicatorResponse {
	out := indicatorResponse{Code: i.Code, NameZH: i.NameZH, NameEN: i.NameEN, Direction: string(i.Direction), Weight: i.Weight,
		Periods: i.Periods, Levels: i.Levels, Source: string(i.Source), PerCapita: i.PerCapita, Window: i.Window, Alpha: i.Alpha,
		Mapping: i.Mapping, Floor: i.Floor, Tolerance: i.Tolerance, Active: i.Active, Version: i.Version,
		UpdatedAt: i.UpdatedAt.UTC()}
	if i.Source == indicator.Auto {
		m := i.Method
		out.Method = &m
		out.Filter = &filterBody{Case: i.Filter.Case, Categories: i.Filter.Categories}
		if out.Filter.Categories == nil {
			out.Filter.Categories = []string{}
		}
	}
	if i.Smoothing != "" {
		sm := i.Smoothing
		out.Smoothing = &sm
	}
	if i.Mapping == "step" {
		st := i.Step
		out.Step = &st
	}
	return out
}

func (s *server) listIndicators(c *gin.Context) {
	items, err := s.indicators.Indicators(c.Request.Context())
	if err != nil {
		writeError(c, err)
		return
	}
	out := make([]indicatorResponse, len(items))
	for i, it := range items {
		out[i] = newIndicatorResponse(it)
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
}

// getIndicator answers one indicator with its version as ETag (304 for a
// matching If-None-Match).
func (s *server) getIndicator(c *gin.Context) {
	i, err := s.indicators.Indicator(c.Request.Context(), c.Param("code"))
	if err != nil {
		writeError(c, err)
		return
	}
	if notModified(c, i.Version) {
		return
	}
	c.JSON(http.StatusOK, newIndicatorResponse(i))
}

type indicatorBody struct {
	Code      *string     `json:"code"`
	NameZH    *string     `json:"name_zh"`
	NameEN    *string     `json:"name_en"`
	Direction *string     `json:"direction"`
	Weight    *float64    `json:"weight"`
	Periods   []string    `json:"periods" max:"2"`
	Levels    []string    `json:"levels" max:"3"`
	Source    *string     `json:"source"`
	Method    *string     `json:"method"`
	Filter    *filterBody `json:"filter"`
	PerCapita *bool       `json:"per_capita"`
	Smoothing *string     `json:"smoothing"`
	Window    *int        `json:"window" expect:"an integer number of periods"`
	Alpha     *float64    `json:"alpha"`
	Mapping   *string     `json:"mapping"`
	Step      *float64    `json:"step"`
	Floor     *float64    `json:"floor"`
	Tolerance *float64    `json:"tolerance"`
	Active    *bool       `json:"active"`
}

// apply copies the fields given onto i.
func (b indicatorBody) apply(i *indicator.Indicator) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&i.NameZH, b.NameZH)
	set(&i.NameEN, b.NameEN)
	set(&i.Method, b.Method)
	set(&i.Smoothing, b.Smoothing)
	set(&i.Mapping, b.Mapping)
	if b.Direction != nil {
		i.Direction = indicator.Direction(*b.Direction)
	}
	if b.Source != nil {
		i.Source = indicator.Source(*b.Source)
	}
	if b.Weight != nil {
		i.Weight = *b.Weight
	}
	if b.Periods != nil {
		i.Periods = b.Periods
	}
	if b.Levels != nil {
		i.Levels = b.Levels
	}
	if b.Filter != nil {
		i.Filter = indicator.Filter{Case: b.Filter.Case, Categories: b.Filter.Categories}
	}
	if b.PerCapita != nil {
		i.PerCapita = *b.PerCapita
	}
	if b.Window != nil {
		i.Window = *b.Window
	}
	if b.Alpha != nil {
		i.Alpha = *b.Alpha
	}
	if b.Step != nil {
		i.Step = *b.Step
	}
	if b.Floor != nil {
		i.Floor = *b.Floor
	}
	if b.Tolerance != nil {
		i.Tolerance = *b.Tolerance
	}
	if b.Active != nil {
		i.Active = *b.Active
	}
}

func (s *server) createIndicator(c *gin.Context) {
	var b indicatorBody
	if err := bindJSON(c, &b); err != nil {
		writeError(c, err)
		return
	}
	if b.Code == nil {
		writeError(c, errs.Invalid("code", "required"))
		return
	}
	// Defaults of SPEC §9: counts per capita, six periods, α 0.5, linear
	// above a floor of 60, a tolerance of 0.05.
	i := indicator.Indicator{Code: *b.Code, PerCapita: true, Window: index.DefaultWindow, Alpha: index.DefaultAlpha,
		Mapping: "linear", Floor: index.DefaultFloor, Tolerance: index.DefaultTolerance, Active: true,
		Levels: []string{"county", "township", "community"}}
	b.apply(&i)
	out, err := s.indicators.CreateIndicator(c.Request.Context(), caller(c), i)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Location", "/api/v1/indicators/"+out.Code)
	c.Header("ETag", etag(out.Version))
	c.JSON(http.StatusCreated, newIndicatorResponse(out))
}

func (s *server) patchIndicator(c *gin.Context) {
	version, err := ifMatch(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var b indicatorBody
	if err := bindJSON(c, &b); err != nil {
		writeError(c, err)
		return
	}
	if b.Code != nil {
		writeError(c, errs.Invalid("code", "cannot be changed"))
		return
	}
	out, err := s.indicators.UpdateIndicator(c.Request.Context(), caller(c), c.Param("code"), version, b.apply)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("ETag", etag(out.Version))
	c.JSON(http.StatusOK, newIndicatorResponse(out))
}

type valueBody struct {
	Indicator  *string  `json:"indicator"`
	RegionCode *string  `json:"region_code"`
	Period     *string  `json:"period"`
	Value      *float64 `json:"value"`
	Note       *string  `json:"note"`
}

func (v valueBody) entry() indicator.Entry {
	return indicator.Entry{Indicator: deref(v.Indicator), RegionCode: deref(v.RegionCode), Period: deref(v.Period),
		Value: v.Value, Note: deref(v.Note)}
}

type valuesRequest struct {
	valueBody
	Items []valueBody `json:"items" max:"5000"`
}

type valueResponse struct {
	Indicator  string    `json:"indicator"`
	RegionCode string    `json:"region_code"`
	Period     string    `json:"period"`
	Value      float64   `json:"value"`
	Note       string    `json:"note"`
	EnteredBy  string    `json:"entered_by"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func valuesResponse(vs []indicator.Value) gin.H {
	out := make([]valueResponse, len(vs))
	for i, v := range vs {
		out[i] = valueResponse{Indicator: v.Indicator, RegionCode: v.RegionCode, Period: v.Period, Value: v.Value, Note: v.Note,
			EnteredBy: v.EnteredBy, UpdatedAt: v.UpdatedAt.UTC()}
	}
	return gin.H{"items": out}
}

// enterValues takes one value ({indicator, region_code, period, value,
// note}) or a batch ({items: [...]}), all or nothing.
func (s *server) enterValues(c *gin.Context) {
	var req valuesRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	single := req.valueBody != (valueBody{})
	if single == (req.Items != nil) {
		writeError(c, errs.Invalid("items", "send one value, or a batch as items, not both"))
		return
	}
	var entries []indicator.Entry
	name := func(i int) string { return fmt.Sprintf("items[%d].", i) }
	if single {
		entries = []indicator.Entry{req.entry()}
		name = func(int) string { return "" }
	}
	for _, it := range req.Items {
		entries = append(entries, it.entry())
	}
	out, err := s.indicators.Enter(c.Request.Context(), caller(c), entries, name)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, valuesResponse(out))
}

// The content types of an import.
const (
	csvType  = "text/csv"
	xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

// importValues takes a CSV or XLSX file as the request body; every row is
// checked and nothing is written unless all are good.
func (s *server) importValues(c *gin.Context) {
	data, err := readBody(c, indicator.MaxImportBytes)
	if err != nil {
		writeError(c, err)
		return
	}
	ct, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	var entries []indicator.Entry
	switch ct {
	case csvType:
		entries, err = indicator.ParseCSV(data)
	case xlsxType:
		entries, err = indicator.ParseXLSX(data)
	default:
		err = errs.Invalid("Content-Type", "text/csv or "+xlsxType)
	}
	if err != nil {
		writeError(c, err)
		return
	}
	out, err := s.indicators.Enter(c.Request.Context(), caller(c), entries, func(i int) string {
		return fmt.Sprintf("row %d.", entries[i].Row)
	})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, valuesResponse(out))
}

type accountRequest struct {
	Name       *string  `json:"name"`
	Indicators []string `json:"indicators" max:"50"`
	RegionCode *string  `json:"region_code"`
}

type accountResponse struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Key        *string    `json:"key,omitempty"`
	KeyPrefix  string     `json:"key_prefix"`
	Indicators []string   `json:"indicators"`
	RegionCode string     `json:"region_code"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

func newAccountResponse(a indicator.Account) accountResponse {
	return accountResponse{ID: a.ID, Name: a.Name, KeyPrefix: a.KeyPrefix, Indicators: a.Indicators, RegionCode: a.RegionCode,
		CreatedBy: a.CreatedBy, CreatedAt: a.CreatedAt.UTC(), RevokedAt: utcPtr(a.RevokedAt)}
}

// createAccount issues a service account; its key is in this answer only.
func (s *server) createAccount(c *gin.Context) {
	var req accountRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	a, key, err := s.indicators.CreateAccount(c.Request.Context(), caller(c), deref(req.Name), req.Indicators, deref(req.RegionCode))
	if err != nil {
		writeError(c, err)
		return
	}
	out := newAccountResponse(a)
	out.Key = &key
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, out)
}

func (s *server) listAccounts(c *gin.Context) {
	items, err := s.indicators.Accounts(c.Request.Context(), caller(c))
	if err != nil {
		writeError(c, err)
		return
	}
	out := make([]accountResponse, len(items))
	for i, a := range items {
		out[i] = newAccountResponse(a)
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
}

func (s *server) revokeAccount(c *gin.Context) {
	a, err := s.indicators.RevokeAccount(c.Request.Context(), caller(c), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, newAccountResponse(a))
}
