package store

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"pingan/internal/dispute"
	"pingan/internal/index"
	"pingan/internal/indicator"
	"pingan/internal/ranking"
)

// The values that rows keep as JSON text each have a type here, tagged with
// the names that databases already hold, so that a domain type may change
// without changing what is stored (or needing a migration).

// decodeColumn reads the JSON text of a column into v. A value that cannot
// be read is logged with the row it is in and returned as an error, so the
// read fails (500) instead of showing a zero value.
func decodeColumn(ctx context.Context, table, id, column, text string, v any) error {
	if err := json.Unmarshal([]byte(text), v); err != nil {
		slog.ErrorContext(ctx, "store: a stored value cannot be read", slog.String("table", table), slog.String("id", id),
			slog.String("column", column), slog.String("error", err.Error()))
		return fmt.Errorf("%s %s: stored %s cannot be read: %w", table, id, column, err)
	}
	return nil
}

// columnText is the JSON text of a column's value. The column types hold
// only strings, numbers, booleans and slices and structs of them, which
// json.Marshal always encodes: an error is a programming error.
func columnText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("store: encode a %T: %v", v, err))
	}
	return string(b)
}

// outcomeColumn is disputes.outcome.
type outcomeColumn struct {
	Agreement     string   `json:"agreement,omitempty"`
	AmountSettled *int64   `json:"amount_settled,omitempty"`
	PhotoIDs      []string `json:"photo_ids,omitempty"`
	FailReason    string   `json:"fail_reason,omitempty"`
	ReferredTo    string   `json:"referred_to,omitempty"`
	ReferNote     string   `json:"refer_note,omitempty"`
	Satisfaction  *int     `json:"satisfaction,omitempty"`
}

func outcomeToColumn(o dispute.Outcome) outcomeColumn {
	return outcomeColumn{Agreement: o.Agreement, AmountSettled: o.AmountSettled, PhotoIDs: o.PhotoIDs,
		FailReason: o.FailReason, ReferredTo: o.ReferredTo, ReferNote: o.ReferNote, Satisfaction: o.Satisfaction}
}

func (c outcomeColumn) domain() dispute.Outcome {
	return dispute.Outcome{Agreement: c.Agreement, AmountSettled: c.AmountSettled, PhotoIDs: c.PhotoIDs,
		FailReason: c.FailReason, ReferredTo: c.ReferredTo, ReferNote: c.ReferNote, Satisfaction: c.Satisfaction}
}

// filterColumn is indicators.filter.
type filterColumn struct {
	Case       string   `json:"case"`
	Categories []string `json:"categories,omitempty"`
}

func filterToColumn(f indicator.Filter) filterColumn {
	return filterColumn{Case: f.Case, Categories: f.Categories}
}

func (c filterColumn) domain() indicator.Filter {
	return indicator.Filter{Case: c.Case, Categories: c.Categories}
}

// detailColumn is index_results.detail. Its score was first written as an
// untagged index.RegionScore, so its names are that type's Go field names
// (Weight and Contribution came with migration 00010, which dropped the
// results written without them).
type detailColumn struct {
	Codes []string    `json:"codes"`
	Score scoreColumn `json:"score"`
}

type scoreColumn struct {
	Code       string                 `json:"Code"`
	Scored     bool                   `json:"Scored"`
	Score      float64                `json:"Score"`
	Rank       int                    `json:"Rank"`
	Band       string                 `json:"Band"`
	Complete   bool                   `json:"Complete"`
	Missing    []string               `json:"Missing"`
	Indicators []indicatorScoreColumn `json:"Indicators"`
}

type indicatorScoreColumn struct {
	Present      bool        `json:"Present"`
	Value        float64     `json:"Value"`
	Rate         valueColumn `json:"Rate"`
	RateSmoothed valueColumn `json:"RateSmoothed"`
	Mu           valueColumn `json:"Mu"`
	D            float64     `json:"D"`
	RankSelf     int         `json:"RankSelf"`
	RankCross    int         `json:"RankCross"`
	ScoreSelf    float64     `json:"ScoreSelf"`
	ScoreCross   float64     `json:"ScoreCross"`
	Score        float64     `json:"Score"`
	Weight       float64     `json:"Weight"`
	Contribution float64     `json:"Contribution"`
}

type valueColumn struct {
	X     float64 `json:"X"`
	Valid bool    `json:"Valid"`
}

func detailToColumn(d ranking.Detail) detailColumn {
	s := d.Score
	c := detailColumn{Codes: d.Codes, Score: scoreColumn{Code: s.Code, Scored: s.Scored, Score: s.Score, Rank: s.Rank,
		Band: string(s.Band), Complete: s.Complete, Missing: s.Missing}}
	if s.Indicators != nil {
		c.Score.Indicators = make([]indicatorScoreColumn, len(s.Indicators))
	}
	for i, is := range s.Indicators {
		c.Score.Indicators[i] = indicatorScoreColumn{Present: is.Present, Value: is.Value, Rate: valueColumn(is.Rate),
			RateSmoothed: valueColumn(is.RateSmoothed), Mu: valueColumn(is.Mu), D: is.D, RankSelf: is.RankSelf,
			RankCross: is.RankCross, ScoreSelf: is.ScoreSelf, ScoreCross: is.ScoreCross, Score: is.Score, Weight: is.Weight,
			Contribution: is.Contribution}
	}
	return c
}

func (c detailColumn) domain() ranking.Detail {
	s := c.Score
	d := ranking.Detail{Codes: c.Codes, Score: index.RegionScore{Code: s.Code, Scored: s.Scored, Score: s.Score, Rank: s.Rank,
		Band: index.Band(s.Band), Complete: s.Complete, Missing: s.Missing}}
	if s.Indicators != nil {
		d.Score.Indicators = make([]index.IndicatorScore, len(s.Indicators))
	}
	for i, is := range s.Indicators {
		d.Score.Indicators[i] = index.IndicatorScore{Present: is.Present, Value: is.Value, Rate: index.Value(is.Rate),
			RateSmoothed: index.Value(is.RateSmoothed), Mu: index.Value(is.Mu), D: is.D, RankSelf: is.RankSelf,
			RankCross: is.RankCross, ScoreSelf: is.ScoreSelf, ScoreCross: is.ScoreCross, Score: is.Score, Weight: is.Weight,
			Contribution: is.Contribution}
	}
	return d
}
