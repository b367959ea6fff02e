package index

import (
	"fmt"

	"pingan/internal/errs"
)

// invalid is an input error: it names what is wrong and wraps errs.ErrInvalid.
func invalid(format string, args ...any) error {
	return fmt.Errorf("index: "+format+": %w", append(args, errs.ErrInvalid)...)
}

// validate checks everything Score relies on, so that the arithmetic after
// it needs no checks: settings in range, codes unique, series of the right
// length, values finite and ≥ 0.
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
		for r, s := range vs {
			if s == nil {
				continue
			}
			if len(s) != ind.Window+1 {
				return invalid("indicator %q, region %q: %d values, want window+1 = %d (x[t-%d] … x[t])",
					ind.Code, in.Regions[r].Code, len(s), ind.Window+1, ind.Window)
			}
			for j, v := range s {
				if v.Valid && !(v.X >= 0 && v.X <= MaxValue) {
					return invalid("indicator %q, region %q: x[t-%d] = %v is not a number from 0 to 1e15",
						ind.Code, in.Regions[r].Code, ind.Window-j, v.X)
				}
			}
		}
	}
	return nil
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
