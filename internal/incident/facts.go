package incident

import "pingan/internal/fact"

// factOf names the fact each action writes (SPEC §4.3): what applies to
// incidents of a case's facts. Starting writes none; rejecting and
// cancelling end an incident that was never resolved, which the incidents
// open at the end of a period are counted from (SPEC §11.1).
var factOf = map[string]fact.Kind{"accept": fact.Accepted, "resolve": fact.Resolved, "close": fact.Closed,
	"reject": fact.Rejected, "cancel": fact.Cancelled}

// facts is the fact the action recorded by ev adds to inc's, if any.
func facts(inc Incident, ev Event) []fact.Fact {
	k, ok := factOf[ev.Action]
	if !ok {
		return nil
	}
	return []fact.Fact{{ID: ev.ID, Case: inc.factCase(), Kind: k, At: ev.CreatedAt}}
}

// factCase is what every fact copies of inc.
func (i Incident) factCase() fact.Case {
	return fact.Case{ID: i.ID, Kind: "incident", Category: i.Category, CountyCode: i.CountyCode,
		TownshipCode: i.TownshipCode, CommunityCode: i.CommunityCode, GridCode: i.RegionCode,
		ReporterID: i.ReporterID, ReportedAt: i.ReportedAt}
}

// Replay derives an incident's facts from its timeline (events in order),
// as the live actions wrote them: for the migration that introduced facts
// and for the demo data set.
func Replay(inc Incident, events []Event) []fact.Fact {
	var out []fact.Fact
	for _, ev := range events {
		out = append(out, facts(inc, ev)...)
	}
	return out
}
