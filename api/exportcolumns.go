package api

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"pingan/internal/category"
	"pingan/internal/dispute"
	"pingan/internal/errs"
	"pingan/internal/export"
	"pingan/internal/incident"
	"pingan/internal/region"
	"pingan/internal/warning"
)

// The exports' columns: Chinese headers, and each row as a supervisor reads
// it (names rather than codes, local times, labels rather than enums).

var incidentStatusZH = map[incident.Status]string{incident.Reported: "已上报", incident.Accepted: "已受理",
	incident.InProgress: "处置中", incident.Resolved: "已处置", incident.Closed: "已办结", incident.Rejected: "已驳回",
	incident.Cancelled: "已撤销"}

var severityZH = map[incident.Severity]string{incident.Low: "低", incident.Medium: "中", incident.High: "高",
	incident.Critical: "紧急"}

var disputeStatusZH = map[dispute.Status]string{dispute.Registered: "已登记", dispute.Accepted: "已受理",
	dispute.Mediating: "调解中", dispute.Resolved: "已化解", dispute.Failed: "调解未成", dispute.Referred: "已移交",
	dispute.Closed: "已结案"}

var riskZH = map[dispute.Risk]string{dispute.RiskLow: "低", dispute.RiskMedium: "中", dispute.RiskHigh: "高"}

var levelZH = map[region.Level]string{region.City: "市级", region.County: "县区", region.Township: "镇街",
	region.Community: "社区", region.Grid: "网格"}

var partyRoleZH = map[dispute.PartyRole]string{dispute.Applicant: "申请人", dispute.Respondent: "被申请人", dispute.Other: "其他"}

var warningKindZH = map[string]string{warning.KindSurge: "案件激增", warning.KindOverdue: "逾期集中",
	warning.KindRedBand: "连续红色", warning.KindRankFall: "排名下滑", warning.KindKeyDate: "重点时段"}

var warningSeverityZH = map[warning.Severity]string{warning.Blue: "蓝色", warning.Yellow: "黄色", warning.Orange: "橙色",
	warning.Red: "红色"}

var warningStatusZH = map[string]string{warning.Open: "未处理", warning.Acknowledged: "已确认", warning.Closed: "已关闭"}

var caseKindZH = map[string]string{warning.CaseIncident: "事件", warning.CaseDispute: "矛盾纠纷"}

// label is m's label for v, or v itself when it has none.
func label[K ~string](m map[K]string, v K) string {
	if l, ok := m[v]; ok {
		return l
	}
	return string(v)
}

// localTime is t as a local wall time; empty for nil.
func (s *server) localTime(t *time.Time) export.Cell {
	if t == nil || t.IsZero() {
		return export.Text("")
	}
	return export.Text(t.In(s.loc()).Format("2006-01-02 15:04:05"))
}

// optNumber is a number cell, empty for nil.
func optNumber(x *float64) export.Cell {
	if x == nil {
		return export.Text("")
	}
	return export.Number(*x)
}

// casePeriod names the period of a case list's from and to (instants, to
// exclusive) by local days, e.g. 2026-10-01_2026-10-31; "" when unbounded.
func (s *server) casePeriod(from, to time.Time) string {
	if from.IsZero() && to.IsZero() {
		return ""
	}
	var a, b string
	if !from.IsZero() {
		a = from.In(s.loc()).Format(time.DateOnly)
	}
	if !to.IsZero() {
		b = to.Add(-time.Nanosecond).In(s.loc()).Format(time.DateOnly)
	}
	return a + "_" + b
}

// categoryNames maps the category codes of a case kind to their Chinese
// names.
func (s *server) categoryNames(ctx context.Context, kind category.Kind) (map[string]string, error) {
	cs, err := s.categories.FindCategories(ctx, kind)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(cs))
	for _, c := range cs {
		out[c.Code] = c.NameZH
	}
	return out, nil
}

// places are a case's county, township, community and grid by name.
func (n *names) places(ctx context.Context, codes ...string) ([]export.Cell, error) {
	out := make([]export.Cell, len(codes))
	for i, code := range codes {
		name, err := n.of(ctx, code)
		if err != nil {
			return nil, err
		}
		out[i] = export.Text(name)
	}
	return out, nil
}

var incidentHeader = []string{"事件编号", "类别", "状态", "严重程度", "县区", "镇街", "社区", "网格", "发生时间", "上报时间",
	"事件描述", "地址", "纬度", "经度"}

func (s *server) exportIncidents(c *gin.Context) {
	if !exportParams(c, incidentFilters) {
		return
	}
	bad := errs.FieldErrors{}
	format := exportFormat(c, bad)
	q := incidentQuery(c, bad)
	if err := bad.Err(); err != nil {
		writeError(c, err)
		return
	}
	cats, err := s.categoryNames(c.Request.Context(), category.Incident)
	if err != nil {
		writeError(c, err)
		return
	}
	p, n := caller(c), s.names()
	q.Limit = exportPage + 1
	next := func(ctx context.Context) ([][]export.Cell, bool, error) {
		items, err := s.incidents.FindIncidents(ctx, p, q)
		if err != nil {
			return nil, false, err
		}
		items, more := cutPage(items, func(last incident.Incident) { q.BeforeAt, q.BeforeID = last.CreatedAt, last.ID })
		rows := make([][]export.Cell, len(items))
		for i, it := range items {
			places, err := n.places(ctx, it.CountyCode, it.TownshipCode, it.CommunityCode, it.RegionCode)
			if err != nil {
				return nil, false, err
			}
			row := []export.Cell{export.Text(it.CaseNo), export.Text(label(cats, it.Category)),
				export.Text(label(incidentStatusZH, it.Status)), export.Text(label(severityZH, it.Severity))}
			row = append(row, places...)
			row = append(row, s.localTime(&it.OccurredAt), s.localTime(&it.ReportedAt), export.Text(it.Description),
				export.Text(it.Location.Address), optNumber(it.Location.Lat), optNumber(it.Location.Lng))
			rows[i] = row
		}
		return rows, more, nil
	}
	s.runExport(c, exportJob{kind: export.Incidents, title: "事件", format: format, region: q.Region,
		period: s.casePeriod(q.From, q.To), header: incidentHeader, filters: exportFilters(c, incidentFilters), next: next})
}

var disputeHeader = []string{"纠纷编号", "类别", "状态", "风险等级", "处理层级", "县区", "镇街", "社区", "网格", "发生时间",
	"登记时间", "办理期限", "是否逾期", "化解层级", "化解时间", "涉及金额（元）", "当事人", "纠纷描述", "地址"}

// partiesText is the parties in one cell, phone and ID numbers as the
// service masked them: 申请人 张三（139****4321，370502********1234）.
func partiesText(ps []dispute.Party) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		var contact []string
		for _, v := range []string{p.Phone, p.IDNumber} {
			if v != "" {
				contact = append(contact, v)
			}
		}
		parts[i] = label(partyRoleZH, p.Role) + " " + p.Name
		if len(contact) > 0 {
			parts[i] += "（" + strings.Join(contact, "，") + "）"
		}
	}
	return strings.Join(parts, "；")
}

func (s *server) exportDisputes(c *gin.Context) {
	if !exportParams(c, disputeFilters) {
		return
	}
	bad := errs.FieldErrors{}
	format := exportFormat(c, bad)
	q := disputeQuery(c, bad)
	if err := bad.Err(); err != nil {
		writeError(c, err)
		return
	}
	cats, err := s.categoryNames(c.Request.Context(), category.Dispute)
	if err != nil {
		writeError(c, err)
		return
	}
	p, n, now := caller(c), s.names(), s.now()
	q.Limit = exportPage + 1
	next := func(ctx context.Context) ([][]export.Cell, bool, error) {
		items, err := s.disputes.FindDisputesMasked(ctx, p, q)
		if err != nil {
			return nil, false, err
		}
		items, more := cutPage(items, func(last dispute.Dispute) { q.BeforeAt, q.BeforeID = last.CreatedAt, last.ID })
		rows := make([][]export.Cell, len(items))
		for i, d := range items {
			places, err := n.places(ctx, d.CountyCode, d.TownshipCode, d.CommunityCode, d.RegionCode)
			if err != nil {
				return nil, false, err
			}
			overdue := "否"
			if d.Overdue(now) {
				overdue = "是"
			}
			amount := export.Text("")
			if d.Amount != nil {
				amount = export.Number(float64(*d.Amount) / 100)
			}
			resolvedLevel := ""
			if d.ResolvedLevel != "" {
				resolvedLevel = label(levelZH, d.ResolvedLevel)
			}
			row := []export.Cell{export.Text(d.CaseNo), export.Text(label(cats, d.Category)),
				export.Text(label(disputeStatusZH, d.Status)), export.Text(label(riskZH, d.Risk)),
				export.Text(label(levelZH, d.Level))}
			row = append(row, places...)
			row = append(row, s.localTime(&d.OccurredAt), s.localTime(&d.ReportedAt), s.localTime(d.DueAt),
				export.Text(overdue), export.Text(resolvedLevel), s.localTime(d.ResolvedAt), amount,
				export.Text(partiesText(d.Parties)), export.Text(d.Description), export.Text(d.Location.Address))
			rows[i] = row
		}
		return rows, more, nil
	}
	s.runExport(c, exportJob{kind: export.Disputes, title: "矛盾纠纷", format: format, region: q.Region,
		period: s.casePeriod(q.From, q.To), header: disputeHeader, filters: exportFilters(c, disputeFilters), next: next})
}

var rankingHeader = []string{"全市排名", "上级内排名", "地区编码", "地区", "层级", "得分", "等级", "得分变化", "排名变化",
	"数据完整"}

// exportRankings writes the rankings of a level and period: one read, since
// rankings are cut from the level's results in memory (at most a few
// thousand regions), not paged.
func (s *server) exportRankings(c *gin.Context) {
	if !exportParams(c, rankingFilters) {
		return
	}
	bad := errs.FieldErrors{}
	format := exportFormat(c, bad)
	level, _, at := s.rankingQuery(c, bad)
	if err := bad.Err(); err != nil {
		writeError(c, err)
		return
	}
	p, parent := caller(c), c.Query("parent")
	next := func(ctx context.Context) ([][]export.Cell, bool, error) {
		rk, err := s.ranking.Rankings(ctx, p, level, at, parent)
		if err != nil {
			return nil, false, err
		}
		rows := make([][]export.Cell, len(rk.Items))
		for i, it := range rk.Items {
			r := newRankItem(it)
			row := []export.Cell{{}, {}, export.Text(r.Region.Code), export.Text(r.Region.Name),
				export.Text(label(levelZH, region.Level(r.Region.Level))), {}, {}, {}, {}, export.Text("否")}
			if r.Rank != nil {
				row[0], row[5] = export.Int(*r.Rank), export.Number(*r.Score)
				row[6] = export.Text(*r.BandLabel)
			}
			if r.RankInParent != nil {
				row[1] = export.Int(*r.RankInParent)
			}
			if r.Change != nil {
				row[7], row[8] = export.Number(r.Change.Score), export.Int(r.Change.Rank)
			}
			if r.Complete {
				row[9] = export.Text("是")
			}
			rows[i] = row
		}
		return rows, false, nil
	}
	s.runExport(c, exportJob{kind: export.Rankings, title: "平安指数排名-" + label(levelZH, level), format: format,
		region: parent, period: at, header: rankingHeader, filters: exportFilters(c, rankingFilters), next: next})
}

var warningHeader = []string{"预警类型", "地区", "层级", "案件类型", "类别", "开始", "结束", "天数", "严重程度", "状态",
	"观测值", "期望值", "摘要", "发出时间"}

// warningDays is the length of a warning's episode in days; empty for the
// kinds counted in months.
func warningDays(w warning.Warning) export.Cell {
	first, err1 := time.Parse(time.DateOnly, w.FirstDay)
	last, err2 := time.Parse(time.DateOnly, w.LastDay)
	if err1 != nil || err2 != nil {
		return export.Text("")
	}
	return export.Int(int(last.Sub(first).Hours()/24) + 1)
}

func (s *server) exportWarnings(c *gin.Context) {
	if !exportParams(c, warningFilters) {
		return
	}
	bad := errs.FieldErrors{}
	format := exportFormat(c, bad)
	if err := bad.Err(); err != nil {
		writeError(c, err)
		return
	}
	q := warningQuery(c)
	// A warning's category is of its case kind.
	cats := map[string]map[string]string{}
	for kind, ck := range map[string]category.Kind{warning.CaseIncident: category.Incident, warning.CaseDispute: category.Dispute} {
		names, err := s.categoryNames(c.Request.Context(), ck)
		if err != nil {
			writeError(c, err)
			return
		}
		cats[kind] = names
	}
	p, n := caller(c), s.names()
	q.Limit = exportPage + 1
	next := func(ctx context.Context) ([][]export.Cell, bool, error) {
		items, err := s.warnings.FindWarnings(ctx, p, q)
		if err != nil {
			return nil, false, err
		}
		items, more := cutPage(items, func(last warning.Warning) { at := last.CreatedAt; q.BeforeAt, q.BeforeID = &at, last.ID })
		rows := make([][]export.Cell, len(items))
		for i, w := range items {
			name, err := n.of(ctx, w.RegionCode)
			if err != nil {
				return nil, false, err
			}
			cat := ""
			if w.Category != "" {
				cat = label(cats[w.CaseKind], w.Category)
			}
			rows[i] = []export.Cell{export.Text(label(warningKindZH, w.Kind)), export.Text(name),
				export.Text(label(levelZH, region.Level(w.Level))), export.Text(label(caseKindZH, w.CaseKind)),
				export.Text(cat), export.Text(w.FirstDay), export.Text(w.LastDay), warningDays(w),
				export.Text(label(warningSeverityZH, w.Severity)), export.Text(label(warningStatusZH, w.Status)),
				export.Number(w.Observed), optNumber(w.Expected), export.Text(w.Summary), s.localTime(&w.CreatedAt)}
		}
		return rows, more, nil
	}
	period := ""
	if q.From != "" || q.To != "" {
		period = fmt.Sprintf("%s_%s", q.From, q.To)
	}
	s.runExport(c, exportJob{kind: export.Warnings, title: "预警", format: format, region: q.Region, period: period,
		header: warningHeader, filters: exportFilters(c, warningFilters), next: next})
}
