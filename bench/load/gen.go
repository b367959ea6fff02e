package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/google/uuid"

	"pingan/bench/internal/benchdb"
)

// generator makes plausible incident rows. Row i of n falls on a day chosen
// through a cumulative weight over the period (a seasonal swell in summer, a
// quieter weekend, some day-to-day noise), so that rows come out in time
// order: the loader's inserts then land at the end of every index instead of
// at random pages, which is what keeps a million-row load fast.
type generator struct {
	n       int
	start   time.Time // first day, midnight in loc
	now     time.Time
	loc     *time.Location
	cum     []float64 // cumulative day weights, normalised to 1
	grids   []benchdb.Grid
	gridCum []float64 // cumulative grid weights (population)
	// reporters maps a grid to the id of the grid worker filing there.
	reporters map[string]string
	seed      uint64
}

// weighted is a value with a relative frequency.
type weighted struct {
	value  string
	weight float64
}

var categories = []weighted{
	{"public_order", 24}, {"safety_hazard", 20}, {"traffic", 14}, {"facilities", 13},
	{"environment", 11}, {"telecom_fraud", 8}, {"fire", 5}, {"other", 5},
}

var severities = []weighted{{"low", 50}, {"medium", 32}, {"high", 14}, {"critical", 4}}

// Statuses by the age of the report: old cases are mostly closed, this
// week's are mostly still open.
var (
	statusOld = []weighted{
		{"closed", 78}, {"resolved", 7}, {"rejected", 8}, {"cancelled", 5}, {"in_progress", 2},
	}
	statusMonth = []weighted{
		{"closed", 45}, {"resolved", 25}, {"in_progress", 12}, {"accepted", 5}, {"rejected", 8}, {"cancelled", 5},
	}
	statusWeek = []weighted{
		{"reported", 30}, {"accepted", 20}, {"in_progress", 20}, {"resolved", 15}, {"closed", 5},
		{"rejected", 5}, {"cancelled", 5},
	}
)

// versions is the version a case has in each state: one plus the
// transitions that led there.
var versions = map[string]int{
	"reported": 1, "accepted": 2, "in_progress": 3, "resolved": 4, "closed": 5, "rejected": 2, "cancelled": 2,
}

var descriptions = map[string][]string{
	"public_order":  {"%s附近有人聚集争吵，影响周边秩序", "%s夜间有人酒后滋事", "%s发现可疑人员多次徘徊"},
	"safety_hazard": {"%s楼道堆放杂物，堵塞安全通道", "%s路边井盖缺失", "%s广告牌松动有坠落风险"},
	"traffic":       {"%s路口车辆乱停乱放", "%s信号灯故障", "%s电动车逆行较多"},
	"facilities":    {"%s路灯不亮", "%s健身器材损坏", "%s供水管道漏水"},
	"environment":   {"%s垃圾堆放未及时清运", "%s有异味排放", "%s河道漂浮物较多"},
	"telecom_fraud": {"%s居民反映接到冒充客服诈骗电话", "%s老人疑似遭遇保健品诈骗", "%s有人散发虚假投资传单"},
	"fire":          {"%s电动车楼道充电", "%s商铺灭火器过期", "%s秸秆焚烧冒烟"},
	"other":         {"%s居民反映其他问题", "%s需要协调处理的事项"},
}

func newGenerator(n, days int, now time.Time, loc *time.Location, grids []benchdb.Grid, reporters map[string]string, seed uint64) *generator {
	g := &generator{n: n, now: now, loc: loc, grids: grids, reporters: reporters, seed: seed}
	today := now.In(loc)
	g.start = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, -days+1)
	rng := rand.New(rand.NewPCG(seed, 1))
	g.cum = make([]float64, days)
	var sum float64
	for d := range days {
		day := g.start.AddDate(0, 0, d)
		w := 1 + 0.25*math.Sin(2*math.Pi*float64(day.YearDay()-100)/365) // more in summer
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			w *= 0.8
		}
		w *= 0.85 + 0.3*rng.Float64()
		sum += w
		g.cum[d] = sum
	}
	for d := range g.cum {
		g.cum[d] /= sum
	}
	g.gridCum = make([]float64, len(grids))
	sum = 0
	for i, gr := range grids {
		sum += float64(max(gr.Population, 1))
		g.gridCum[i] = sum
	}
	for i := range g.gridCum {
		g.gridCum[i] /= sum
	}
	return g
}

// row fills r with row i (0 ≤ i < n). Deterministic for a given seed and i,
// and independent of the other rows, so workers can make rows in any order.
func (g *generator) row(i int, r *benchdb.Incident) {
	rng := rand.New(rand.NewPCG(g.seed, uint64(i)+2))
	day := sort.SearchFloat64s(g.cum, (float64(i)+0.5)/float64(g.n))
	day = min(day, len(g.cum)-1)
	// Reports come in the daytime mostly: 7:00–22:00 three times as often.
	hour := rng.IntN(24)
	if rng.IntN(4) != 0 {
		hour = 7 + rng.IntN(15)
	}
	created := g.start.AddDate(0, 0, day).Add(time.Duration(hour)*time.Hour +
		time.Duration(rng.Int64N(int64(time.Hour))))
	if created.After(g.now) {
		created = g.now.Add(-time.Duration(rng.Int64N(int64(time.Hour))))
	}
	created = created.UTC().Truncate(time.Microsecond)

	grid := g.grids[min(sort.SearchFloat64s(g.gridCum, rng.Float64()), len(g.grids)-1)]
	category := pick(rng, categories)
	age := g.now.Sub(created)
	status := pick(rng, statusOld)
	switch {
	case age < 7*24*time.Hour:
		status = pick(rng, statusWeek)
	case age < 30*24*time.Hour:
		status = pick(rng, statusMonth)
	}
	version := versions[status]
	updated := created
	if version > 1 {
		updated = created.Add(time.Duration(version-1) * time.Duration(1+rng.Int64N(int64(8*time.Hour))))
		if updated.After(g.now) {
			updated = g.now
		}
	}
	lat := round6(grid.Lat + (rng.Float64()*2-1)*0.002)
	lng := round6(grid.Lng + (rng.Float64()*2-1)*0.0025)
	tmpls := descriptions[category]

	*r = benchdb.Incident{
		ID: v7At(created, rng).String(),
		CaseNo: fmt.Sprintf("SJ-%s-%s-B%04d-%07d", grid.CountyCode, created.In(g.loc).Format("20060102"),
			g.seed%10_000, i),
		Category: category, Severity: pick(rng, severities), Status: status,
		Description: fmt.Sprintf(tmpls[rng.IntN(len(tmpls))], grid.CommunityName),
		Lat:         &lat, Lng: &lng, Address: grid.Name,
		RegionCode: grid.Code, CommunityCode: grid.CommunityCode, TownshipCode: grid.TownshipCode,
		CountyCode: grid.CountyCode,
		OccurredAt: created.Add(-time.Duration(rng.Int64N(int64(6 * time.Hour)))),
		ReportedAt: created, ReporterID: g.reporter(grid.Code), Version: version,
		CreatedAt: created, UpdatedAt: updated,
	}
	// One report in five was queued on a phone without signal.
	if rng.IntN(5) == 0 {
		t := created.Add(-time.Duration(rng.Int64N(int64(2 * time.Hour))))
		r.ClientCreatedAt = &t
	}
}

// reporter is the grid worker of a grid: the real account where the users
// table has one, else a stable made-up id.
func (g *generator) reporter(grid string) string {
	if id, ok := g.reporters[grid]; ok {
		return id
	}
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte("pingan-bench-reporter-"+grid)).String()
}

func pick(rng *rand.Rand, ws []weighted) string {
	var sum float64
	for _, w := range ws {
		sum += w.weight
	}
	x := rng.Float64() * sum
	for _, w := range ws {
		if x < w.weight {
			return w.value
		}
		x -= w.weight
	}
	return ws[len(ws)-1].value
}

// v7At is a UUIDv7 whose timestamp is t, as the API would have made it when
// the case was created.
func v7At(t time.Time, rng *rand.Rand) uuid.UUID {
	var u uuid.UUID
	ms := uint64(t.UnixMilli())
	binary.BigEndian.PutUint64(u[8:], rng.Uint64())
	binary.BigEndian.PutUint16(u[6:], uint16(rng.Uint32()))
	u[0], u[1], u[2], u[3], u[4], u[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	u[6] = 0x70 | u[6]&0x0f // version 7
	u[8] = 0x80 | u[8]&0x3f // RFC 4122 variant
	return u
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }
