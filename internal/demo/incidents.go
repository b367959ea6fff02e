package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"pingan/internal/fact"
	"pingan/internal/incident"
	"pingan/internal/region"
	"pingan/internal/warning"
)

// Surge is a planted burst of incidents, so that warnings have something
// to find on first start.
type Surge struct {
	Township string
	Category string
	// DaysAgo is the first day of the burst, counted back from today.
	DaysAgo, Days, PerDay int
}

// Surges are the bursts planted in the demo data.
func Surges() []Surge {
	return []Surge{
		{Township: DongchengStreet, Category: "public_order", DaysAgo: 2, Days: 2, PerDay: 9},
		{Township: "370523101", Category: "telecom_fraud", DaysAgo: 16, Days: 3, PerDay: 7}, // 稻庄镇
	}
}

// categoryMix is how often each incident category is reported, with the
// month of its seasonal peak (1–12; 0: none).
var categoryMix = []struct {
	code   string
	weight float64
	peak   int
}{
	{"public_order", 0.26, 7}, {"safety_hazard", 0.18, 0}, {"fire", 0.08, 1}, {"environment", 0.12, 8},
	{"traffic", 0.14, 2}, {"telecom_fraud", 0.10, 0}, {"facilities", 0.08, 0}, {"other", 0.04, 0},
}

// Reporters names who reports in the demo: a grid's own worker where a demo
// account has that grid, the admin elsewhere.
type Reporters struct {
	ByGrid  map[string]string
	Default string
}

// Incidents generates about a year of incidents ending at now (local days
// in loc), with weekly and seasonal patterns and the planted surges, the
// weeks around older key dates, the rises planted at key dates and the
// TroubledTownship's decline, their
// timelines, and the case-number counters they used. The same inputs give
// the same output.
func Incidents(now time.Time, loc *time.Location, who Reporters) ([]incident.Incident, []incident.Event, map[string]int64) {
	rng := rand.New(rand.NewPCG(2026, 311))
	grids, byTownship := demoGrids()
	today := time.Date(now.In(loc).Year(), now.In(loc).Month(), now.In(loc).Day(), 0, 0, 0, 0, loc)
	var incs []incident.Incident
	var events []incident.Event
	counters := map[string]int64{}
	add := func(day time.Time, g region.Region, category string) {
		at := day.Add(time.Duration(6*3600+rng.IntN(16*3600)) * time.Second)
		if at.After(now) {
			at = now.Add(-time.Duration(rng.IntN(3600)) * time.Second)
		}
		parts := strings.Split(strings.Trim(g.Path, "/"), "/")
		reporter := who.Default
		if r, ok := who.ByGrid[g.Code]; ok {
			reporter = r
		}
		prefix := "SJ-" + parts[1] + "-" + day.Format("20060102")
		counters[prefix]++
		sev := []incident.Severity{incident.Low, incident.Low, incident.Low, incident.Medium, incident.Medium, incident.High, incident.Critical}[rng.IntN(7)]
		u, v := rng.Float64(), rng.Float64()
		pt := PointIn(g.Code, u, v)
		lat, lng := pt.Lat, pt.Lng
		inc := incident.Incident{ID: uuidAt(rng, at), CaseNo: fmt.Sprintf("%s-%04d", prefix, counters[prefix]), Category: category,
			Severity: sev, Status: incident.Reported, Description: describe(rng, category), Location: incident.Location{Lat: &lat, Lng: &lng, Address: g.Name},
			RegionCode: g.Code, CommunityCode: parts[3], TownshipCode: parts[2], CountyCode: parts[1],
			OccurredAt: at.Add(-time.Duration(rng.IntN(90)) * time.Minute), ReportedAt: at, ReporterID: reporter,
			Version: 1, CreatedAt: at, UpdatedAt: at}
		incs = append(incs, inc)
		events = append(events, progress(rng, &inc, now)...)
		incs[len(incs)-1] = inc
	}
	for d := 364; d >= 0; d-- {
		day := today.AddDate(0, 0, -d)
		for _, c := range categoryMix {
			// About 20 reports a day city-wide; weekends bring more public-order calls.
			mean := 20 * c.weight * seasonal(day.Month(), c.peak)
			if wd := day.Weekday(); (wd == time.Saturday || wd == time.Sunday) && c.code == "public_order" {
				mean *= 1.35
			}
			for n := poisson(rng, mean); n > 0; n-- {
				add(day, grids[rng.IntN(len(grids))], c.code)
			}
		}
		for _, s := range Surges() {
			if d <= s.DaysAgo && d > s.DaysAgo-s.Days {
				for n := 0; n < s.PerDay; n++ {
					gs := byTownship[s.Township]
					add(day, gs[rng.IntN(len(gs))], s.Category)
				}
			}
		}
	}
	// The planted extras draw from a source of their own, so that the year
	// above stays as it was.
	rng = rand.New(rand.NewPCG(2026, 1013))
	for _, day := range olderDays(now, loc) {
		// The weeks around past key dates before the year: a quarter of the
		// usual traffic, enough for the comparison with the days before.
		for _, c := range categoryMix {
			for n := poisson(rng, 5*c.weight*seasonal(day.Month(), c.peak)); n > 0; n-- {
				add(day, grids[rng.IntN(len(grids))], c.code)
			}
		}
	}
	for _, e := range KeyDates(now, loc) {
		if e.CaseKind != warning.CaseIncident {
			continue
		}
		for _, day := range riseDays(e, today, loc) {
			gs := byTownship[e.Township]
			add(day, gs[rng.IntN(len(gs))], e.Category)
		}
	}
	for k, month := range declineMonths(now, loc) {
		for _, c := range declineCategories {
			gs := byTownship[TroubledTownship.Township]
			for _, day := range declineDays(month, int(c.share*float64((k+1)*TroubledTownship.PerMonth))) {
				add(day, gs[rng.IntN(len(gs))], c.code)
			}
		}
	}
	sort.Slice(incs, func(i, j int) bool { return incs[i].CreatedAt.Before(incs[j].CreatedAt) })
	return incs, events, counters
}

// demoGrids lists the demo grids, and them again by township, for the
// generators to place cases in.
func demoGrids() ([]region.Region, map[string][]region.Region) {
	var grids []region.Region
	byTownship := map[string][]region.Region{}
	for _, r := range Regions() {
		if r.Level == region.Grid {
			grids = append(grids, r)
			township := strings.Split(strings.Trim(r.Path, "/"), "/")[2]
			byTownship[township] = append(byTownship[township], r)
		}
	}
	return grids, byTownship
}

// seasonal lifts a category around its peak month by up to 60 %.
func seasonal(m time.Month, peak int) float64 {
	if peak == 0 {
		return 1
	}
	return 1 + 0.6*math.Cos(2*math.Pi*float64(int(m)-peak)/12)
}

// progress moves an incident along its life cycle as far as its age makes
// likely, and returns its timeline.
func progress(rng *rand.Rand, inc *incident.Incident, now time.Time) []incident.Event {
	ev := func(action string, from, to incident.Status, at time.Time) incident.Event {
		return incident.Event{ID: uuidAt(rng, at), CaseID: inc.ID, ActorID: inc.ReporterID, Action: action, From: from, To: to, CreatedAt: at}
	}
	out := []incident.Event{ev("create", "", incident.Reported, inc.CreatedAt)}
	age := now.Sub(inc.CreatedAt)
	steps := []struct {
		action string
		to     incident.Status
		after  time.Duration
	}{{"accept", incident.Accepted, 2 * time.Hour}, {"start", incident.InProgress, 6 * time.Hour},
		{"resolve", incident.Resolved, 48 * time.Hour}, {"close", incident.Closed, 96 * time.Hour}}
	at := inc.CreatedAt
	if rng.IntN(25) == 0 && age > 24*time.Hour {
		at = at.Add(3 * time.Hour)
		out = append(out, ev("reject", incident.Reported, incident.Rejected, at))
		inc.Status, inc.Version, inc.UpdatedAt = incident.Rejected, 2, at
		return out
	}
	for _, s := range steps {
		next := at.Add(time.Duration(float64(s.after) * (0.3 + rng.Float64())))
		if next.After(now) || (age < 30*24*time.Hour && rng.IntN(4) == 0) {
			break
		}
		out = append(out, ev(s.action, inc.Status, s.to, next))
		inc.Status, inc.Version, inc.UpdatedAt, at = s.to, inc.Version+1, next, next
	}
	return out
}

var descriptions = map[string][]string{
	"public_order":  {"夜间广场有人聚集喧哗", "商铺门前发生口角推搡", "小区内发现可疑人员徘徊", "酒后滋事, 已劝离"},
	"safety_hazard": {"楼道堆放杂物堵塞通道", "电动车楼道内充电", "路边井盖松动", "施工围挡倒伏"},
	"fire":          {"居民楼下垃圾桶起火, 已扑灭", "沿街商铺灭火器过期", "消防通道被车辆占用"},
	"environment":   {"河道漂浮垃圾较多", "餐馆油烟扰民", "夜间施工噪音扰民", "秸秆焚烧冒烟"},
	"traffic":       {"路口信号灯故障", "学校门口车辆乱停", "两车刮擦, 无人员受伤"},
	"telecom_fraud": {"居民接到冒充客服电话, 已劝阻转账", "老人收到中奖短信, 已宣传提醒", "网购退款诈骗未遂"},
	"facilities":    {"路灯损坏, 夜间无照明", "健身器材损坏", "公厕停水"},
	"other":         {"流浪犬出没", "居民求助寻人, 已找到"},
}

func describe(rng *rand.Rand, category string) string {
	d := descriptions[category]
	return d[rng.IntN(len(d))]
}

// poisson draws a count with the given mean (Knuth; means here are small).
func poisson(rng *rand.Rand, mean float64) int {
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// uuidAt makes a UUIDv7 for a past time from the seeded source, so ids sort
// with their times and the data set is repeatable.
func uuidAt(rng *rand.Rand, t time.Time) string {
	var u uuid.UUID
	ms := uint64(t.UnixMilli())
	for i := 0; i < 6; i++ {
		u[i] = byte(ms >> (40 - 8*i))
	}
	for i := 6; i < 16; i++ {
		u[i] = byte(rng.Uint32())
	}
	u[6] = 0x70 | (u[6] & 0x0f)
	u[8] = 0x80 | (u[8] & 0x3f)
	return u.String()
}

// IncidentFacts derives the facts of generated incidents from their
// timelines, as the live actions write them (SPEC §4.3).
func IncidentFacts(incs []incident.Incident, events []incident.Event) []fact.Fact {
	byCase := map[string][]incident.Event{}
	for _, e := range events {
		byCase[e.CaseID] = append(byCase[e.CaseID], e)
	}
	var out []fact.Fact
	for _, inc := range incs {
		out = append(out, incident.Replay(inc, byCase[inc.ID])...)
	}
	return out
}
