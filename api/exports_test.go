package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"pingan/internal/demo"
	"pingan/internal/incident"
	"pingan/internal/warning"
)

const bom = "\ufeff"

// readCSV checks the BOM and returns the records.
func readCSV(t *testing.T, body []byte) [][]string {
	t.Helper()
	if !bytes.HasPrefix(body, []byte(bom)) {
		t.Fatalf("the CSV does not start with a UTF-8 BOM: %q", excerpt(body))
	}
	recs, err := csv.NewReader(bytes.NewReader(body[len(bom):])).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v", err)
	}
	return recs
}

// column returns the values of the named column.
func column(t *testing.T, recs [][]string, name string) []string {
	t.Helper()
	i := slices.Index(recs[0], name)
	if i < 0 {
		t.Fatalf("no column %q in %v", name, recs[0])
	}
	var out []string
	for _, r := range recs[1:] {
		out = append(out, r[i])
	}
	return out
}

func (e *env) export(t *testing.T, user, path string) resp {
	t.Helper()
	return e.do(t, req{method: "GET", path: path, token: e.login(t, user)})
}

func TestExportCSV(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		mine := e.report(t, "demo-gridworker", func(m map[string]any) { m["description"] = `=HYPERLINK("x")` })
		theirs := e.report(t, "demo-gridworker-2", nil)
		dp := dpCreate(t, e)

		// Disputes: Chinese headers, the BOM, the file name, masked parties.
		r := e.export(t, "demo-county-supervisor", "/api/v1/exports/disputes?format=csv")
		expect(t, r, 200, "")
		if ct := r.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Fatalf("Content-Type %q", ct)
		}
		if cd, want := r.Header.Get("Content-Disposition"), "filename*=UTF-8''"+url.PathEscape("东营区-矛盾纠纷.csv"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, want) {
			t.Fatalf("Content-Disposition %q, want %q in it", cd, want)
		}
		recs := readCSV(t, r.Body)
		if recs[0][0] != "纠纷编号" || !slices.Contains(recs[0], "当事人") || !slices.Contains(recs[0], "涉及金额（元）") {
			t.Fatalf("header %v", recs[0])
		}
		if nos := column(t, recs, "纠纷编号"); !slices.Contains(nos, dp["case_no"].(string)) {
			t.Fatalf("dispute %s missing from %v", dp["case_no"], nos)
		}
		body := string(r.Body)
		for _, plain := range []string{dpPhone, dpIDNumber, "13800009999"} {
			if strings.Contains(body, plain) {
				t.Fatalf("the export holds the unmasked %s", plain)
			}
		}
		if !strings.Contains(body, "张三（139****5678，370502********1234）") || !strings.Contains(body, "138****9999") {
			t.Fatalf("the parties are not there masked: %s", excerpt(r.Body))
		}
		if amounts := column(t, recs, "涉及金额（元）"); !slices.Contains(amounts, "1200") {
			t.Fatalf("amount 120000 fen not written as the number 1200: %v", amounts)
		}

		// Incidents: the county supervisor's export holds 东营区 only, and a
		// formula comes out as text.
		r = e.export(t, "demo-county-supervisor", "/api/v1/exports/incidents?format=csv&from="+
			url.QueryEscape(time.Now().Add(-24*time.Hour).Format(time.RFC3339)))
		expect(t, r, 200, "")
		recs = readCSV(t, r.Body)
		if recs[0][0] != "事件编号" || recs[0][4] != "县区" {
			t.Fatalf("header %v", recs[0])
		}
		nos := column(t, recs, "事件编号")
		if !slices.Contains(nos, mine["case_no"].(string)) || slices.Contains(nos, theirs["case_no"].(string)) {
			t.Fatalf("東营区's export: %v (want %s, not %s)", nos, mine["case_no"], theirs["case_no"])
		}
		for _, county := range column(t, recs, "县区") {
			if county != "东营区" {
				t.Fatalf("a row of %q in 东营区's export", county)
			}
		}
		descs := column(t, recs, "事件描述")
		if !slices.Contains(descs, `'=HYPERLINK("x")`) || slices.Contains(descs, `=HYPERLINK("x")`) {
			t.Fatalf("the formula is not neutralised: %q", descs)
		}
		// from alone: the period is "<its local day>_".
		if cd := r.Header.Get("Content-Disposition"); !strings.Contains(cd, url.PathEscape("东营区-事件-")) || !strings.Contains(cd, "_.csv") {
			t.Fatalf("Content-Disposition %q", cd)
		}

		// Scope: another county is 403; a grid worker exports what their
		// list shows, and neither rankings nor warnings.
		expect(t, e.export(t, "demo-county-supervisor", "/api/v1/exports/incidents?format=csv&region="+demo.GuangraoCounty), 403, "permission_denied")
		expect(t, e.export(t, "demo-county-supervisor", "/api/v1/exports/disputes?format=xlsx&region="+demo.GuangraoCounty), 403, "permission_denied")
		expect(t, e.export(t, "demo-county-supervisor", "/api/v1/exports/warnings?format=csv&region="+demo.GuangraoCounty), 403, "permission_denied")
		expect(t, e.export(t, "demo-county-supervisor", "/api/v1/exports/rankings?format=csv&level=township&period=month&at=2026-10&parent="+
			demo.GuangraoCounty), 403, "permission_denied")
		expect(t, e.export(t, "demo-county-supervisor", "/api/v1/exports/summary?format=xlsx&region="+demo.GuangraoCounty), 403, "permission_denied")
		r = e.export(t, "demo-gridworker-2", "/api/v1/exports/incidents?format=csv")
		expect(t, r, 200, "")
		if nos := column(t, readCSV(t, r.Body), "事件编号"); !slices.Contains(nos, theirs["case_no"].(string)) || slices.Contains(nos, mine["case_no"].(string)) {
			t.Fatalf("demo-gridworker-2's export: %v", nos)
		}
		expect(t, e.export(t, "demo-gridworker", "/api/v1/exports/disputes?format=csv&region="+demo.DongyingDistrict), 403, "permission_denied")
		expect(t, e.export(t, "demo-gridworker", "/api/v1/exports/rankings?format=csv&level=county&period=month&at=2026-10"), 403, "permission_denied")
		expect(t, e.export(t, "demo-gridworker", "/api/v1/exports/warnings?format=csv"), 403, "permission_denied")

		// Rankings and warnings: the headers, even with no rows.
		r = e.export(t, "demo-supervisor", "/api/v1/exports/rankings?format=csv&level=county&period=month&at=2026-10")
		expect(t, r, 200, "")
		if recs := readCSV(t, r.Body); recs[0][0] != "全市排名" {
			t.Fatalf("rankings header %v", recs[0])
		}
		r = e.export(t, "demo-county-supervisor", "/api/v1/exports/warnings?format=csv&status=open")
		expect(t, r, 200, "")
		if recs := readCSV(t, r.Body); recs[0][0] != "预警类型" {
			t.Fatalf("warnings header %v", recs[0])
		}

		// Bad requests name the parameter.
		for path, field := range map[string]string{
			"/api/v1/exports/incidents?format=pdf":                     "format",
			"/api/v1/exports/incidents":                                "format",
			"/api/v1/exports/incidents?format=csv&colour=red":          "colour",
			"/api/v1/exports/incidents?format=csv&limit=5":             "limit",
			"/api/v1/exports/disputes?format=csv&phone=" + dpPhone:     "phone",
			"/api/v1/exports/disputes?format=csv&status=lost":          "status",
			"/api/v1/exports/warnings?format=csv&severity=purple":      "severity",
			"/api/v1/exports/rankings?format=csv&period=month&at=2026": "level",
		} {
			r := e.export(t, "demo-admin", path)
			expect(t, r, 400, "invalid_argument")
			fields, _ := r.json(t)["error"].(map[string]any)["details"].(map[string]any)["fields"].(map[string]any)
			if _, ok := fields[field]; !ok {
				t.Errorf("%s: 400 without naming %s: %s", path, field, r.Body)
			}
		}

		// Every export that answered 200 is in the audit log, with its filters
		// and row count.
		var n int
		var details string
		if err := e.app.DB.SQL().QueryRow("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'export.%'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 5 {
			t.Fatalf("%d export entries, want 5", n)
		}
		if err := e.app.DB.SQL().QueryRow("SELECT details FROM audit_log WHERE action = 'export.incidents' AND region_path LIKE ? ORDER BY at LIMIT 1",
			"%/370502/%").Scan(&details); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`"rows":`, `"complete":true`, `"from":`, `"format":"csv"`} {
			if !strings.Contains(details, want) {
				t.Fatalf("audit details %s lack %s", details, want)
			}
		}
	})
}

// TestExportXLSX reads the workbook back: the same rows as the CSV.
func TestExportXLSX(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.report(t, "demo-gridworker", func(m map[string]any) { m["description"] = "-1+1" })
		e.report(t, "demo-gridworker", nil)
		dpCreate(t, e)
		for _, kind := range []string{"incidents", "disputes"} {
			c := e.export(t, "demo-county-supervisor", "/api/v1/exports/"+kind+"?format=csv")
			expect(t, c, 200, "")
			x := e.export(t, "demo-county-supervisor", "/api/v1/exports/"+kind+"?format=xlsx")
			expect(t, x, 200, "")
			if ct := x.Header.Get("Content-Type"); ct != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
				t.Fatalf("Content-Type %q", ct)
			}
			f, err := excelize.OpenReader(bytes.NewReader(x.Body))
			if err != nil {
				t.Fatalf("the XLSX does not open: %v", err)
			}
			sheets := f.GetSheetList()
			if len(sheets) != 1 {
				t.Fatalf("sheets %v", sheets)
			}
			got, err := f.GetRows(sheets[0])
			if err != nil {
				t.Fatal(err)
			}
			want := readCSV(t, c.Body)
			for i := range want { // GetRows leaves out a row's trailing empty cells
				for len(want[i]) > 0 && want[i][len(want[i])-1] == "" {
					want[i] = want[i][:len(want[i])-1]
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%s: XLSX rows\n%v\nCSV rows\n%v", kind, got, want)
			}
			if kind == "incidents" && !strings.Contains(fmt.Sprint(got), "'-1+1") {
				t.Fatalf("the formula is not neutralised in the XLSX: %v", got)
			}
			f.Close()
		}
	})
}

// TestExportBadInput: every export answers a bad filter, in either format,
// with a 400 naming it — never a 500 and never a file — since the first
// page is read before the first byte.
func TestExportBadInput(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		for _, c := range []struct{ query, field string }{
			{"incidents?region=nope", "region"},
			{"incidents?status=lost", "status"},
			{"incidents?severity=x", "severity"},
			{"incidents?from=2026-13-45", "from"},
			{"incidents?to=yesterday", "to"},
			{"incidents?reporter=someone", "reporter"},
			{"incidents?status=reported&status=closed", "status"},
			{"disputes?region=nope", "region"},
			{"disputes?level=x", "level"},
			{"disputes?risk=x", "risk"},
			{"disputes?overdue=maybe", "overdue"},
			{"disputes?assignee=someone", "assignee"},
			{"disputes?to=2026-02-30", "to"},
			{"rankings?period=month&at=2026-10", "level"},
			{"rankings?level=county&period=week&at=2026-10", "period"},
			{"rankings?level=county&period=month&at=2026-13", "at"},
			{"rankings?level=county&period=day&at=2026-10", "at"},
			{"rankings?level=county&period=month&at=2026-10&parent=nope", "parent"},
			{"warnings?region=nope", "region"},
			{"warnings?status=x", "status"},
			{"warnings?kind=x", "kind"},
			{"warnings?from=2026-10", "from"},
			{"warnings?from=2026-10-05&to=2026-10-01", "to"},
		} {
			for _, format := range []string{"csv", "xlsx"} {
				path := "/api/v1/exports/" + c.query + "&format=" + format
				r := e.export(t, "demo-admin", path)
				expect(t, r, 400, "invalid_argument")
				fields, _ := r.json(t)["error"].(map[string]any)["details"].(map[string]any)["fields"].(map[string]any)
				if _, ok := fields[c.field]; !ok {
					t.Errorf("%s: 400 without naming %s: %s", path, c.field, r.Body)
				}
			}
		}
	})
}

// TestExportWarningCategories: a warning's category is named from its own
// case kind's categories.
func TestExportWarningCategories(t *testing.T) {
	e := newEnv(t, "sqlite")
	at := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	seedWarning(t, e, demo.DongchengStreet, at, func(w *warning.Warning) { w.Category = "neighbourhood" })
	seedWarning(t, e, demo.DongchengStreet, at.Add(time.Hour), func(w *warning.Warning) {
		w.CaseKind, w.Category, w.Summary = warning.CaseIncident, "traffic", "东城街道交通事件激增"
	})
	r := e.export(t, "demo-supervisor", "/api/v1/exports/warnings?format=csv")
	expect(t, r, 200, "")
	recs := readCSV(t, r.Body)
	got := fmt.Sprint(column(t, recs, "案件类型"), column(t, recs, "类别"))
	if want := "[事件 矛盾纠纷] [交通 邻里]"; got != want {
		t.Fatalf("case kinds and categories %s, want %s", got, want)
	}
}

// meter is a ResponseWriter that counts what it is sent and samples the
// heap as the export goes.
type meter struct {
	header  http.Header
	bytes   int
	writes  int
	flushes int
	peak    uint64
	status  int
}

func (m *meter) Header() http.Header { return m.header }
func (m *meter) WriteHeader(code int) {
	if m.status == 0 {
		m.status = code
	}
}
func (m *meter) Write(b []byte) (int, error) {
	if m.status == 0 {
		m.status = 200
	}
	m.bytes += len(b)
	m.writes++
	if m.writes%64 == 0 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		m.peak = max(m.peak, ms.HeapAlloc)
	}
	return len(b), nil
}
func (m *meter) Flush() { m.flushes++ }

// TestExportMemoryFlat exports 100 000 incidents: the heap stays far below
// the file's size, and the file leaves page by page (a flush per page).
func TestExportMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("100 000 rows")
	}
	e := newEnv(t, "sqlite")
	e.skipSpec = true
	const n = 100_000
	desc := strings.Repeat("楼道堆放杂物影响通行", 12) // 360 bytes
	now := time.Now().UTC().Add(-time.Hour)
	incs := make([]incident.Incident, n)
	for i := range incs {
		at := now.Add(-time.Duration(i) * time.Second)
		id, _ := uuid.NewV7()
		incs[i] = incident.Incident{ID: id.String(), CaseNo: fmt.Sprintf("SJ-370502-BULK-%06d", i), Category: "public_order",
			Severity: incident.Low, Status: incident.Reported, Description: desc,
			Location:   incident.Location{Address: "府前社区3号楼"},
			RegionCode: demo.FuqianGrid1, CommunityCode: demo.FuqianCommunity, TownshipCode: demo.DongchengStreet,
			CountyCode: demo.DongyingDistrict, OccurredAt: at, ReportedAt: at, ReporterID: userID(t, e, "demo-gridworker"),
			Version: 1, CreatedAt: at, UpdatedAt: at}
	}
	if err := e.app.DB.BulkInsertIncidents(context.Background(), incs, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	incs = nil
	tok := e.login(t, "demo-county-supervisor")
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)

	hr := httptest.NewRequest("GET", "/api/v1/exports/incidents?format=csv", nil)
	hr.Header.Set("Authorization", "Bearer "+tok)
	m := &meter{header: http.Header{}}
	start := time.Now()
	e.app.Handler.ServeHTTP(m, hr)
	if m.status != 200 {
		t.Fatalf("status %d", m.status)
	}
	grew := int64(m.peak) - int64(base.HeapAlloc)
	t.Logf("%d rows, %d MB in %v; heap %d MB at start, peak growth %d MB; %d flushes",
		n, m.bytes>>20, time.Since(start).Round(time.Millisecond), base.HeapAlloc>>20, grew>>20, m.flushes)
	if m.bytes < 40<<20 {
		t.Fatalf("only %d bytes for %d rows", m.bytes, n)
	}
	// Generous: a page of 2 000 rows is about 2 MiB; the whole file, or
	// its rows as structs, would be over 40 MiB.
	if grew > 24<<20 {
		t.Fatalf("the heap grew %d MB exporting %d MB", grew>>20, m.bytes>>20)
	}
	if m.flushes < n/2000 {
		t.Fatalf("%d flushes for %d pages: the rows did not leave page by page", m.flushes, n/2000)
	}
}
