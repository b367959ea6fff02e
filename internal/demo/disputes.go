package demo

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"pingan/internal/dispute"
	"pingan/internal/fact"
	"pingan/internal/intake"
	"pingan/internal/region"
	"pingan/internal/warning"
)

// disputeMix is the share of each dispute category and its peak month:
// family disputes around the Spring Festival, wage arrears before it,
// neighbours in summer, land in spring.
var disputeMix = []struct {
	code   string
	weight float64
	peak   int
}{
	{"neighbourhood", 0.24, 7}, {"marriage_family", 0.18, 2}, {"housing_land", 0.10, 4}, {"contract", 0.08, 0},
	{"damages", 0.10, 0}, {"labour", 0.10, 1}, {"land_contract", 0.06, 4}, {"property_mgmt", 0.08, 0},
	{"requisition", 0.02, 0}, {"consumer", 0.04, 0},
}

var disputeDescriptions = map[string][]string{
	"neighbourhood":   {"楼上漏水损坏楼下吊顶", "邻居占用公共楼道堆放杂物", "宠物犬夜间吠叫扰民", "相邻院墙排水纠纷"},
	"marriage_family": {"夫妻因家务琐事争吵要求调解", "子女赡养老人费用分担分歧", "离婚后子女探视安排纠纷"},
	"housing_land":    {"宅基地边界争议", "房屋租赁押金退还纠纷", "翻建房屋影响邻居采光"},
	"contract":        {"装修合同工期延误", "农资买卖货款拖欠"},
	"damages":         {"电动车相撞医药费赔偿", "施工碰坏围墙赔偿", "犬只咬伤赔偿"},
	"labour":          {"工地农民工工资拖欠", "工伤赔偿协商", "解除劳动合同补偿争议"},
	"land_contract":   {"土地承包经营权流转租金纠纷", "承包地界址不清"},
	"property_mgmt":   {"物业费收缴与服务质量争议", "小区停车位收费纠纷"},
	"requisition":     {"征地补偿款分配争议"},
	"consumer":        {"预付卡商家停业退款纠纷", "购买家电质量问题退换"},
}

var surnames = []rune("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗")
var givenNames = []string{"建国", "秀英", "玉兰", "志强", "桂芳", "海燕", "明", "伟", "芳", "军", "丽", "磊", "静", "洋", "勇"}

// DisputeSurge is a planted burst of disputes (a wage-arrears wave before
// a holiday), so that warnings have something to find.
var DisputeSurge = Surge{Township: "370522101", Category: "labour", DaysAgo: 9, Days: 5, PerDay: 6}

// OverdueBacklog is a planted backlog: PerDay disputes registered in one
// township on the day DaysAgo and never picked up, so that their
// acceptance deadlines lapse together the next day and the overdue warning
// (warning.DefaultSettings().OverdueCount, 5) has a day to find.
var OverdueBacklog = Surge{Township: "370503002", Category: "property_mgmt", DaysAgo: 4, Days: 1, PerDay: 7} // 六合街道

// Mediators names who handles disputes in the demo: the mediator account of
// a handling region where there is one, the admin elsewhere.
type Mediators struct {
	ByRegion map[string]string
	Default  string
}

func (m Mediators) at(code string) string {
	if id, ok := m.ByRegion[code]; ok {
		return id
	}
	return m.Default
}

// Disputes generates about a year of disputes ending at now, each walked
// along the workflow of SPEC §8 as far as its age makes likely: accepted,
// mediated in sessions, mostly settled at community level, some failed and
// escalated up to the city or referred, followed up and closed, a few
// still waiting past their deadline. Returns the disputes,
// their timelines and the case-number counters used. Repeatable.
func Disputes(now time.Time, loc *time.Location, who Reporters, med Mediators) ([]dispute.Dispute, []dispute.Event, map[string]int64) {
	rng := rand.New(rand.NewPCG(2026, 8))
	deadlines := dispute.DefaultDeadlines()
	grids, byTownship := demoGrids()
	today := time.Date(now.In(loc).Year(), now.In(loc).Month(), now.In(loc).Day(), 0, 0, 0, 0, loc)
	var ds []dispute.Dispute
	var events []dispute.Event
	counters := map[string]int64{}
	add := func(day time.Time, g region.Region, category string, stuck bool) {
		at := day.Add(time.Duration(7*3600+rng.IntN(13*3600)) * time.Second)
		if at.After(now) {
			at = now.Add(-time.Duration(rng.IntN(3600)) * time.Second)
		}
		parts := strings.Split(strings.Trim(g.Path, "/"), "/")
		reporter := who.Default
		if r, ok := who.ByGrid[g.Code]; ok {
			reporter = r
		}
		prefix := "JF-" + parts[1] + "-" + day.Format("20060102")
		counters[prefix]++
		risk := []dispute.Risk{dispute.RiskLow, dispute.RiskLow, dispute.RiskMedium, dispute.RiskMedium, dispute.RiskHigh}[rng.IntN(5)]
		u, v := rng.Float64(), rng.Float64()
		pt := PointIn(g.Code, u, v)
		lat, lng := pt.Lat, pt.Lng
		descs := disputeDescriptions[category]
		d := dispute.Dispute{ID: uuidAt(rng, at), CaseNo: fmt.Sprintf("%s-%04d", prefix, counters[prefix]), Category: category,
			Description: descs[rng.IntN(len(descs))], Location: dispute.Location{Lat: &lat, Lng: &lng, Address: g.Name},
			RegionCode: g.Code, CommunityCode: parts[3], TownshipCode: parts[2], CountyCode: parts[1], CityCode: parts[0],
			OccurredAt: at.Add(-time.Duration(rng.IntN(72)) * time.Hour), ReportedAt: at, ReporterID: reporter,
			PhotoIDs: []string{}, Parties: parties(rng, parts[1]), Risk: risk, Status: dispute.Registered,
			Level: region.Community, LevelCode: parts[3], EnteredLevelAt: at, Version: 1, CreatedAt: at, UpdatedAt: at}
		if rng.IntN(3) > 0 {
			amount := int64(50_000 + rng.IntN(5_000_000)) // 500 to 50 500 yuan
			d.Amount = &amount
		}
		if stuck {
			d.Risk = dispute.RiskMedium
			events = append(events, register(rng, &d, deadlines))
		} else {
			events = append(events, mediate(rng, &d, now, med, deadlines)...)
		}
		ds = append(ds, d)
	}
	for n := 364; n >= 0; n-- {
		day := today.AddDate(0, 0, -n)
		for _, c := range disputeMix {
			// About five disputes a day city-wide.
			for k := poisson(rng, 5*c.weight*seasonal(day.Month(), c.peak)); k > 0; k-- {
				add(day, grids[rng.IntN(len(grids))], c.code, false)
			}
		}
		s := DisputeSurge
		if n <= s.DaysAgo && n > s.DaysAgo-s.Days {
			gs := byTownship[s.Township]
			for k := 0; k < s.PerDay; k++ {
				add(day, gs[rng.IntN(len(gs))], s.Category, false)
			}
		}
	}
	// The planted extras draw from a source of their own, so that the year
	// above stays as it was.
	rng = rand.New(rand.NewPCG(2026, 1014))
	for _, day := range olderDays(now, loc) {
		for _, c := range disputeMix { // a quarter of the usual traffic
			for k := poisson(rng, 1.25*c.weight*seasonal(day.Month(), c.peak)); k > 0; k-- {
				add(day, grids[rng.IntN(len(grids))], c.code, false)
			}
		}
	}
	for _, e := range KeyDates(now, loc) {
		if e.CaseKind != warning.CaseDispute {
			continue
		}
		for _, day := range riseDays(e, today, loc) {
			gs := byTownship[e.Township]
			add(day, gs[rng.IntN(len(gs))], []string{"marriage_family", "labour"}[rng.IntN(2)], false)
		}
	}
	for k, month := range declineMonths(now, loc) {
		gs := byTownship[TroubledTownship.Township]
		for i, day := range declineDays(month, (k+1)*TroubledTownship.PerMonth) {
			add(day, gs[rng.IntN(len(gs))], disputeMix[rng.IntN(len(disputeMix))].code, i%3 == 0)
		}
	}
	b := OverdueBacklog
	for k := 0; k < b.PerDay; k++ {
		gs := byTownship[b.Township]
		add(today.AddDate(0, 0, -b.DaysAgo), gs[rng.IntN(len(gs))], b.Category, true)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].CreatedAt.Before(ds[j].CreatedAt) })
	return ds, events, counters
}

// parties are an applicant with an ID number and a respondent, with made-up
// names and numbers.
func parties(rng *rand.Rand, county string) []dispute.Party {
	name := func() string {
		return string(surnames[rng.IntN(len(surnames))]) + givenNames[rng.IntN(len(givenNames))]
	}
	phone := func() string { return fmt.Sprintf("1%d%09d", 3+rng.IntN(7), rng.IntN(1_000_000_000)) }
	first17 := fmt.Sprintf("%s%04d%02d%02d%03d", county, 1950+rng.IntN(55), 1+rng.IntN(12), 1+rng.IntN(28), rng.IntN(1000))
	rng.IntN(10) // once a random last digit: drawn still, so that the rest of the data set stays as it was
	id := first17 + string(intake.IDCheckDigit(first17))
	return []dispute.Party{
		{Role: dispute.Applicant, Name: name(), Phone: phone(), IDNumber: id},
		{Role: dispute.Respondent, Name: name(), Phone: phone()},
	}
}

// register files d and leaves it waiting (registered, past its acceptance
// deadline once that lapses); it returns the one event of its timeline.
func register(rng *rand.Rand, d *dispute.Dispute, dl dispute.Deadlines) dispute.Event {
	b, _ := json.Marshal(map[string]any{"level": d.Level, "level_code": d.LevelCode})
	due := d.EnteredLevelAt.Add(dl.Accept[d.Risk])
	d.DueAt = &due
	return dispute.Event{ID: uuidAt(rng, d.CreatedAt), CaseID: d.ID, ActorID: d.ReporterID, Action: "create",
		To: dispute.Registered, CreatedAt: d.CreatedAt, Payload: string(b)}
}

// mediate walks d along the workflow as far as its age allows and returns
// its timeline; d is left in its final state.
func mediate(rng *rand.Rand, d *dispute.Dispute, now time.Time, med Mediators, dl dispute.Deadlines) []dispute.Event {
	var out []dispute.Event
	at := d.CreatedAt
	ev := func(actor, action string, to dispute.Status, payload map[string]any) bool {
		if at.After(now) {
			return false
		}
		e := dispute.Event{ID: uuidAt(rng, at), CaseID: d.ID, ActorID: actor, Action: action, From: d.Status, To: to, CreatedAt: at}
		if action == "create" {
			e.From = ""
		}
		if payload != nil {
			b, _ := json.Marshal(payload)
			e.Payload = string(b)
		}
		out = append(out, e)
		if action != "create" {
			d.Version++
		}
		d.Status, d.UpdatedAt = to, at
		return true
	}
	wait := func(min, max time.Duration) { at = at.Add(min + time.Duration(rng.Int64N(int64(max-min)))) }
	due := func() {
		d.DueAt = nil
		switch d.Status {
		case dispute.Registered:
			t := d.EnteredLevelAt.Add(dl.Accept[d.Risk])
			d.DueAt = &t
		case dispute.Accepted, dispute.Mediating:
			t := d.EnteredLevelAt.Add(dl.Resolve[d.Level])
			d.DueAt = &t
		}
	}
	defer due()
	ev(d.ReporterID, "create", dispute.Registered, map[string]any{"level": d.Level, "level_code": d.LevelCode})
	// How likely a level settles a case (most at community level: 就地化解).
	settle := map[dispute.Level]int{region.Community: 88, region.Township: 75, region.County: 80, region.City: 100}
	// settleOnce takes the case from registered up the levels until a level
	// resolves it (true) or the walk stops (false).
	settleOnce := func() bool {
		for {
			mediator, settledAt := med.at(d.LevelCode), d.Level
			if d.Level == region.Community && rng.IntN(12) == 0 {
				// The township's mediator takes the case on himself: it is
				// settled at township level (SPEC §4.3).
				if id, ok := med.ByRegion[d.TownshipCode]; ok {
					mediator, settledAt = id, region.Township
				}
			}
			if rng.IntN(40) == 0 { // never picked up: it sits past its deadline
				return false
			}
			wait(time.Hour, 20*time.Hour)
			switch {
			case d.Risk == dispute.RiskHigh:
				at = d.EnteredLevelAt.Add(time.Duration(rng.IntN(110)) * time.Minute)
			case rng.IntN(15) == 0: // accepted late
				at = d.EnteredLevelAt.Add(dl.Accept[d.Risk] + time.Duration(1+rng.IntN(16))*time.Hour)
			}
			if !ev(mediator, "accept", dispute.Accepted, map[string]any{"assignee_id": mediator}) {
				return false
			}
			d.AssigneeID = mediator
			wait(4*time.Hour, 48*time.Hour)
			if !ev(mediator, "start", dispute.Mediating, nil) {
				return false
			}
			for k := 1 + rng.IntN(3); k > 0; k-- {
				wait(12*time.Hour, 6*24*time.Hour)
				if !ev(mediator, "record_session", dispute.Mediating, map[string]any{"method": []string{"onsite", "phone", "video"}[rng.IntN(3)],
					"held_at": at.UTC(), "attendees": []string{d.Parties[0].Name, d.Parties[1].Name}, "notes": "听取双方陈述, 释法明理"}) {
					return false
				}
			}
			wait(6*time.Hour, 3*24*time.Hour)
			if rng.IntN(10) == 0 { // resolved, but after its deadline
				at = maxTime(at, d.EnteredLevelAt.Add(dl.Resolve[d.Level]+time.Duration(1+rng.IntN(10*24))*time.Hour))
			}
			if rng.IntN(100) < settle[d.Level] {
				if !ev(mediator, "resolve", dispute.Resolved, map[string]any{"settled_level": settledAt, "agreement": "双方自愿达成调解协议"}) {
					return false
				}
				t := at
				d.ResolvedLevel, d.ResolvedAt = settledAt, &t
				d.Outcome = dispute.Outcome{Agreement: "双方自愿达成调解协议"}
				d.FollowUps, d.LastFollowUpAt, d.ClosedAt = 0, nil, nil
				return true
			}
			if !ev(mediator, "fail", dispute.Failed, map[string]any{"reason": "双方分歧较大"}) {
				return false
			}
			d.Outcome.FailReason = "双方分歧较大"
			if rng.IntN(8) == 0 { // waiting for a decision to refer or escalate
				return false
			}
			wait(2*time.Hour, 2*24*time.Hour)
			if d.Level == region.City || rng.IntN(6) == 0 {
				to := []string{"litigation", "arbitration", "petition", "other_department"}[rng.IntN(4)]
				if ev(mediator, "refer", dispute.Referred, map[string]any{"to": to}) {
					d.Outcome.ReferredTo = to
					wait(24*time.Hour, 10*24*time.Hour)
					if rng.IntN(2) == 0 && ev(mediator, "close", dispute.Closed, nil) {
						t := at
						d.ClosedAt = &t
					}
				}
				return false
			}
			from := d.Level
			next := map[dispute.Level]dispute.Level{region.Community: region.Township, region.Township: region.County, region.County: region.City}[from]
			code := map[dispute.Level]string{region.Township: d.TownshipCode, region.County: d.CountyCode, region.City: d.CityCode}[next]
			if !ev(mediator, "escalate", dispute.Registered, map[string]any{"from_level": from, "to_level": next, "level_code": code,
				"reason": "需上级协调"}) {
				return false
			}
			d.Level, d.LevelCode, d.EnteredLevelAt, d.AssigneeID = next, code, at, ""
		}
	}
	for settleOnce() {
		// Resolved: followed up, then closed; now and then reopened when the
		// agreement is not kept (SPEC §8.1: within 90 days).
		wait(3*24*time.Hour, 10*24*time.Hour)
		if rng.IntN(10) < 8 {
			sat := 3 + rng.IntN(3)
			if rng.IntN(10) == 0 {
				sat = 1 + rng.IntN(2)
			}
			if !ev(d.AssigneeID, "follow_up", dispute.Resolved, map[string]any{"satisfaction": sat}) {
				return out
			}
			t := at
			d.FollowUps, d.LastFollowUpAt, d.Outcome.Satisfaction = 1, &t, &sat
			wait(2*24*time.Hour, 10*24*time.Hour)
			if rng.IntN(10) < 7 && ev(d.AssigneeID, "close", dispute.Closed, nil) {
				t := at
				d.ClosedAt = &t
			}
		}
		if rng.IntN(20) != 0 {
			return out
		}
		wait(2*24*time.Hour, 20*24*time.Hour)
		if !ev(med.at(d.LevelCode), "reopen", dispute.Registered, map[string]any{"reason": "协议未履行, 当事人申请重新调解"}) {
			return out
		}
		d.EnteredLevelAt, d.AssigneeID, d.ClosedAt, d.ResolvedLevel, d.ResolvedAt = at, "", nil, "", nil
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// DisputeFacts derives the facts of generated disputes from their
// timelines, as the live actions write them (SPEC §4.3).
func DisputeFacts(ds []dispute.Dispute, events []dispute.Event, dl dispute.Deadlines) ([]fact.Fact, []fact.Deadline, error) {
	byCase := map[string][]dispute.Event{}
	for _, e := range events {
		byCase[e.CaseID] = append(byCase[e.CaseID], e)
	}
	var facts []fact.Fact
	var deadlines []fact.Deadline
	for _, d := range ds {
		fs, dls, err := dl.Replay(d, byCase[d.ID], func(string, dispute.Level) dispute.Level { return "" })
		if err != nil {
			return nil, nil, err
		}
		facts, deadlines = append(facts, fs...), append(deadlines, dls...)
	}
	return facts, deadlines, nil
}
