package index

import (
	"fmt"
	"math"

	"pingan/internal/errs"
)

// inputError says what is wrong with an Input, in one line.
type inputError struct{ msg string }

func (e *inputError) Error() string { return e.msg }

// Unwrap makes errors.Is(e, errs.ErrInvalid) true.
func (e *inputError) Unwrap() error { return errs.ErrInvalid }

// invalid is an input error that names what is wrong.
func invalid(format string, args ...any) error {
	return &inputError{msg: "index: " + fmt.Sprintf(format, args...)}
}

// validate checks the settings, the codes and the shape of Values before
// anything is computed. Each series is checked as the scoring reads it
// (read), while it is in the cache.
func (in Input) validate() error {
	if len(in.Indicators) == 0 {
		return invalid("no indicators")
	}
	seen := make(map[string]struct{}, max(len(in.Indicators), len(in.Regions)))
	for _, ind := range in.Indicators {
		if err := ind.validate(); err != nil {
			return err
		}
		if _, dup := seen[ind.Code]; dup {
			return invalid("indicator %q is listed twice", ind.Code)
		}
		seen[ind.Code] = struct{}{}
	}
	clear(seen)
	for _, r := range in.Regions {
		if r.Code == "" {
			return invalid("a region has no code")
		}
		if r.Population < 0 {
			return invalid("region %q: population %d is negative", r.Code, r.Population)
		}
		if _, dup := seen[r.Code]; dup {
			return invalid("region %q is listed twice", r.Code)
		}
		seen[r.Code] = struct{}{}
	}
	if len(in.Values) != len(in.Indicators) {
		return invalid("values for %d indicators, want one list per indicator (%d)", len(in.Values), len(in.Indicators))
	}
	for i, ind := range in.Indicators {
		vs := in.Values[i]
		if vs == nil {
			continue
		}
		if len(vs) != len(in.Regions) {
			return invalid("indicator %q: series for %d regions, want one per region (%d)", ind.Code, len(vs), len(in.Regions))
		}
	}
	return nil
}

// badValue is the error for a series that read refused: the wrong length,
// or the first value that is not a number from 0 to MaxValue.
func badValue(s []Value, ind *Indicator, region string) error {
	if len(s) != ind.Window+1 {
		return invalid("indicator %q, region %q: %d values, want window+1 = %d (x[t-%d] … x[t])",
			ind.Code, region, len(s), ind.Window+1, ind.Window)
	}
	for j, v := range s {
		if v.Valid && !(v.X >= 0 && v.X <= MaxValue) {
			period := "x[t]"
			if j < ind.Window {
				period = fmt.Sprintf("x[t-%d]", ind.Window-j)
			}
			return invalid("indicator %q, region %q: %s = %v is not a number from 0 to 1e15", ind.Code, region, period, v.X)
		}
	}
	return invalid("indicator %q, region %q: a bad series", ind.Code, region)
}

func (ind Indicator) validate() error {
	if ind.Code == "" {
		return invalid("an indicator has no code")
	}
	switch ind.Direction {
	case Negative, Positive:
	default:
		return invalid("indicator %q: direction %q is not negative or positive", ind.Code, ind.Direction)
	}
	if !(ind.Weight >= 0 && ind.Weight <= MaxWeight) {
		return invalid("indicator %q: weight %v is not a number from 0 to 1e6", ind.Code, ind.Weight)
	}
	switch ind.Smoothing {
	case NoSmoothing:
	case EmpiricalBayes:
		if !ind.PerCapita {
			return invalid("indicator %q: smoothing eb needs per_capita (it smooths rates)", ind.Code)
		}
	default:
		return invalid("indicator %q: smoothing %q is not none or eb", ind.Code, ind.Smoothing)
	}
	if ind.Window < 1 {
		return invalid("indicator %q: window %d is below 1", ind.Code, ind.Window)
	}
	if !(ind.Alpha >= 0 && ind.Alpha <= 1) {
		return invalid("indicator %q: alpha %v is not in [0, 1]", ind.Code, ind.Alpha)
	}
	if !(ind.Floor >= 0 && ind.Floor < 100) {
		return invalid("indicator %q: floor %v is not a number in [0, 100)", ind.Code, ind.Floor)
	}
	if !(ind.Tolerance >= 0) || math.IsInf(ind.Tolerance, 1) {
		return invalid("indicator %q: tolerance %v is not a finite number ≥ 0", ind.Code, ind.Tolerance)
	}
	switch ind.Mapping {
	case LinearMapping:
	case StepMapping:
		if !(ind.Step > 0 && ind.Step <= 100) {
			return invalid("indicator %q: step %v is not a number in (0, 100] (mapping step needs one)", ind.Code, ind.Step)
		}
	default:
		return invalid("indicator %q: mapping %q is not linear or step", ind.Code, ind.Mapping)
	}
	return nil
}
