package demo

import (
	"time"
)

// Decline is a township planted to slide into the index's red band (SPEC
// §9.4, docs/scoring.md) in each of the last three complete months, so that
// a red_band warning (three months running, SPEC §10.2) has one to find: in
// the k-th of those months (k = 1, 2, 3) it takes k times PerMonth more
// disputes, public-order incidents, telecom frauds and safety hazards than
// usual, a third of the disputes left unaccepted past their deadline, and
// more petitions. Rising above its own six-month mean and topping its
// peers' per-capita rates, it ranks last or nearly on most indicators, which
// scores it near the floor of 60.
type Decline struct {
	Township string
	PerMonth int
}

// TroubledTownship is the demo's Decline: 新户镇 in 河口区, 20 000 people.
var TroubledTownship = Decline{Township: "370503103", PerMonth: 10}

// declineCategories are the incident categories that rise in the Decline,
// with their share of PerMonth.
var declineCategories = []struct {
	code  string
	share float64
}{{"public_order", 1}, {"telecom_fraud", 0.5}, {"safety_hazard", 0.5}}

// declineMonths are the first days of the last three complete months,
// oldest first.
func declineMonths(now time.Time, loc *time.Location) []time.Time {
	first := dayOf(now, loc).AddDate(0, 0, 1-dayOf(now, loc).Day())
	return []time.Time{first.AddDate(0, -3, 0), first.AddDate(0, -2, 0), first.AddDate(0, -1, 0)}
}

// declineDays spreads n cases over a month from its fourth day (a dispute
// may have occurred up to three days before its report, and must still fall
// in the month).
func declineDays(month time.Time, n int) []time.Time {
	days := month.AddDate(0, 1, 0).Sub(month).Hours()/24 - 3
	out := make([]time.Time, n)
	for i := range out {
		out[i] = month.AddDate(0, 0, 3+int(float64(i)*days/float64(n)))
	}
	return out
}
