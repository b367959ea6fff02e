package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"pingan/internal/dispute"
	"pingan/internal/fact"
	"pingan/internal/idempotency"
	"pingan/internal/index"
	"pingan/internal/indicator"
	"pingan/internal/notify"
	"pingan/internal/ranking"
	"pingan/internal/region"
	"pingan/internal/store"
)

var columnsNow = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// testDispute is a resolved and followed-up dispute, due in the past.
func testDispute(id string, o dispute.Outcome) dispute.Dispute {
	due := columnsNow.Add(-time.Hour)
	return dispute.Dispute{ID: id, CaseNo: "JF-370502-20260301-" + id[len(id)-4:], Category: "neighbour", Description: "噪音",
		RegionCode: "370502003001001", CommunityCode: "370502003001", TownshipCode: "370502003", CountyCode: "370502",
		CityCode: "370500", OccurredAt: columnsNow, ReportedAt: columnsNow, ReporterID: "u1", PhotoIDs: []string{},
		Parties: []dispute.Party{{Role: dispute.PartyRole("applicant"), Name: "张三"}}, Risk: dispute.Risk("low"),
		Status: dispute.Registered, Level: dispute.Level("community"), LevelCode: "370502003001",
		EnteredLevelAt: columnsNow, DueAt: &due, LastFollowUpAt: &columnsNow, Outcome: o, Version: 1,
		CreatedAt: columnsNow, UpdatedAt: columnsNow}
}

func createDispute(t *testing.T, db *store.DB, d dispute.Dispute) {
	t.Helper()
	ev := dispute.Event{ID: strings.Replace(d.ID, "-7000-", "-7001-", 1), CaseID: d.ID, ActorID: "u1", Action: "create", To: dispute.Registered,
		CreatedAt: columnsNow}
	if err := db.CreateDispute(context.Background(), d, ev, fact.Change{}); err != nil {
		t.Fatal(err)
	}
}

// column reads one stored value as text.
func column(t *testing.T, db *store.DB, query string, args ...any) string {
	t.Helper()
	var s string
	if err := db.SQL().QueryRow(query, args...).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func exec(t *testing.T, db *store.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.SQL().Exec(query, args...); err != nil {
		t.Fatal(err)
	}
}

// captureLog sends the default logger to a buffer until t ends.
func captureLog(t *testing.T) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return &buf
}

// wantCorrupt checks that a read failed on a corrupt value, and that the
// failure was logged with the row's id.
func wantCorrupt(t *testing.T, what string, err error, log *bytes.Buffer, id string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), "cannot be read") {
		t.Fatalf("%s: error %v, want a stored value that cannot be read", what, err)
	}
	if line := log.String(); !strings.Contains(line, "id="+id) || !strings.Contains(line, "level=ERROR") {
		t.Fatalf("%s: logged %q, want an error naming %s", what, line, id)
	}
	log.Reset()
}

// TestJSONColumnsKeepTheirFormat: the JSON columns are written exactly as
// before the domain types lost their tags (databases hold them), and read
// back whole.
func TestJSONColumnsKeepTheirFormat(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()

		amount, sat := int64(150000), 4
		full := dispute.Outcome{Agreement: "双方和解", AmountSettled: &amount, PhotoIDs: []string{"p1", "p2"},
			FailReason: "分歧", ReferredTo: "litigation", ReferNote: "转法院", Satisfaction: &sat}
		for _, c := range []struct {
			id      string
			outcome dispute.Outcome
			text    string
		}{
			{"0195500a-3333-7000-8000-000000000001", full, `{"agreement":"双方和解","amount_settled":150000,` +
				`"photo_ids":["p1","p2"],"fail_reason":"分歧","referred_to":"litigation","refer_note":"转法院","satisfaction":4}`},
			{"0195500a-3333-7000-8000-000000000002", dispute.Outcome{}, `{}`},
		} {
			createDispute(t, db, testDispute(c.id, c.outcome))
			if got := column(t, db, "SELECT outcome FROM disputes WHERE id = ?", c.id); got != c.text {
				t.Fatalf("stored outcome %s, want %s", got, c.text)
			}
			d, err := db.FindDisputeByID(ctx, c.id)
			if err != nil || !reflect.DeepEqual(d.Outcome, c.outcome) {
				t.Fatalf("read outcome %+v %v, want %+v", d.Outcome, err, c.outcome)
			}
		}

		for _, c := range []struct {
			code   string
			filter indicator.Filter
			text   string
		}{
			{"fraud_and_fire", indicator.Filter{Case: "incident", Categories: []string{"telecom_fraud", "fire"}},
				`{"case":"incident","categories":["telecom_fraud","fire"]}`},
			{"petitions_x", indicator.Filter{}, `{"case":""}`},
		} {
			ind := indicator.Indicator{Code: c.code, NameZH: "指标", Direction: indicator.Negative, Weight: 0.1,
				Periods: []string{indicator.Month}, Levels: []string{"county"}, Source: indicator.Auto, Method: indicator.Count,
				Filter: c.filter, Window: 6, Alpha: 0.5, Mapping: "linear", Active: true, Version: 1, UpdatedAt: columnsNow}
			if err := db.CreateIndicator(ctx, ind); err != nil {
				t.Fatal(err)
			}
			if got := column(t, db, "SELECT filter FROM indicators WHERE code = ?", c.code); got != c.text {
				t.Fatalf("stored filter %s, want %s", got, c.text)
			}
			got, err := db.FindIndicator(ctx, c.code)
			if err != nil || !reflect.DeepEqual(got.Filter, c.filter) {
				t.Fatalf("read filter %+v %v, want %+v", got.Filter, err, c.filter)
			}
		}

		// The detail was written as an untagged index.RegionScore under
		// "score": the stored text must not change.
		detail := ranking.Detail{Codes: []string{"disputes", "petitions"}, Score: index.RegionScore{Code: "370502",
			Scored: true, Score: 81.25, Rank: 2, Band: index.Blue, Complete: false, Missing: []string{"petitions"},
			Indicators: []index.IndicatorScore{
				{Present: true, Value: 12, Rate: index.Known(0.2308), RateSmoothed: index.Value{}, Mu: index.Known(10), D: 0.2,
					RankSelf: 4, RankCross: 2, ScoreSelf: 70, ScoreCross: 90, Score: 80, Weight: 0.2, Contribution: 81.25},
				{},
			}}}
		old, err := json.Marshal(struct {
			Codes []string          `json:"codes"`
			Score index.RegionScore `json:"score"`
		}{detail.Codes, detail.Score})
		if err != nil {
			t.Fatal(err)
		}
		row := ranking.Row{Level: region.County, PeriodKind: indicator.Month, Period: "2026-02", RegionCode: "370502",
			ParentCode: "370500", Score: 81.25, Rank: 2, Band: index.Blue, Detail: detail, ComputedAt: columnsNow}
		if err := db.ReplaceResults(ctx, region.County, indicator.Month, "2026-02", []ranking.Row{row}); err != nil {
			t.Fatal(err)
		}
		if got := column(t, db, "SELECT detail FROM index_results WHERE region_code = ?", "370502"); got != string(old) {
			t.Fatalf("stored detail\n%s\nwant\n%s", got, old)
		}
		rows, err := db.FindResults(ctx, region.County, indicator.Month, "2026-02", func(string) bool { return true })
		if err != nil || len(rows) != 1 || !reflect.DeepEqual(rows[0].Detail, detail) {
			t.Fatalf("read detail %+v %v, want %+v", rows, err, detail)
		}
		// Without a reader for it the detail is left out.
		rows, err = db.FindResults(ctx, region.County, indicator.Month, "2026-02", nil)
		if err != nil || len(rows) != 1 || rows[0].Score != 81.25 || rows[0].Detail.Codes != nil {
			t.Fatalf("without detail: %+v %v", rows, err)
		}

		// The webhook's body: the notification as the API shows it.
		n := notify.Notification{ID: "0195500a-4444-7000-8000-000000000001", UserID: "u1", Kind: notify.KindEscalated,
			CaseKind: notify.CaseDispute, CaseID: "c1", Title: "纠纷<已上报>", CreatedAt: columnsNow.In(time.FixedZone("CST", 8*3600))}
		d := notify.Delivery{ID: "0195500a-4444-7000-8000-000000000002", Notification: n, Status: notify.DeliveryPending,
			NextAttemptAt: columnsNow, CreatedAt: columnsNow, UpdatedAt: columnsNow}
		if err := db.InsertDeliveries(ctx, []notify.Delivery{d}); err != nil {
			t.Fatal(err)
		}
		want := `{"event":"notification","notification":{"id":"0195500a-4444-7000-8000-000000000001","user_id":"u1",` +
			`"kind":"escalated","case_kind":"dispute","case_id":"c1","case_no":null,"title":"纠纷\u003c已上报\u003e",` +
			`"created_at":"2026-03-01T08:00:00Z","read_at":null}}`
		if got := column(t, db, "SELECT body FROM webhook_deliveries WHERE id = ?", d.ID); got != want {
			t.Fatalf("webhook body\n%s\nwant\n%s", got, want)
		}
		stored, err := db.FindDelivery(ctx, d.ID)
		if err != nil || string(stored.Body) != want || stored.Notification.ID != n.ID {
			t.Fatalf("delivery %+v %v", stored, err)
		}
	})
}

// TestCorruptJSONColumns: a stored JSON value that cannot be read fails the
// read, logged with the row's id, instead of reading as a zero value.
func TestCorruptJSONColumns(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		log := captureLog(t)

		sat := 5
		const id = "0195500a-5555-7000-8000-000000000001"
		createDispute(t, db, testDispute(id, dispute.Outcome{Agreement: "和解", Satisfaction: &sat}))
		exec(t, db, "UPDATE disputes SET outcome = ? WHERE id = ?", `{"agreement":`, id)
		_, err := db.FindDisputeByID(ctx, id)
		wantCorrupt(t, "FindDisputeByID", err, log, id)
		_, err = db.FindDisputes(ctx, dispute.Filter{Limit: 10})
		wantCorrupt(t, "FindDisputes", err, log, id)
		_, err = db.FindDueDisputes(ctx, columnsNow, 10)
		wantCorrupt(t, "FindDueDisputes", err, log, id)
		// A wrong type is as unreadable as broken JSON.
		exec(t, db, "UPDATE disputes SET outcome = ? WHERE id = ?", `{"satisfaction":"five"}`, id)
		_, err = db.FindDisputeByID(ctx, id)
		wantCorrupt(t, "FindDisputeByID (wrong type)", err, log, id)

		ind := indicator.Indicator{Code: "broken", NameZH: "指标", Direction: indicator.Negative, Weight: 0.1,
			Periods: []string{indicator.Month}, Levels: []string{"county"}, Source: indicator.Auto, Method: indicator.Count,
			Filter: indicator.Filter{Case: "incident"}, Window: 6, Alpha: 0.5, Mapping: "linear", Active: true, Version: 1}
		if err := db.CreateIndicator(ctx, ind); err != nil {
			t.Fatal(err)
		}
		exec(t, db, "UPDATE indicators SET filter = ? WHERE code = ?", "incident", "broken")
		_, err = db.FindIndicator(ctx, "broken")
		wantCorrupt(t, "FindIndicator", err, log, "broken")
		_, err = db.FindIndicators(ctx)
		wantCorrupt(t, "FindIndicators", err, log, "broken")

		rec := idempotency.Record{UserID: "u1", KeyHash: "k1", RequestHash: "r1", Owner: "o1",
			LockedUntil: columnsNow.Add(time.Minute), CreatedAt: columnsNow}
		if _, claimed, err := db.ClaimIdempotencyKey(ctx, rec, columnsNow); err != nil || !claimed {
			t.Fatalf("claim: %v %v", claimed, err)
		}
		if err := db.CompleteIdempotencyKey(ctx, "u1", "k1", "o1", 201, map[string]string{"Location": "/x"}, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		got, _, err := db.ClaimIdempotencyKey(ctx, rec, columnsNow)
		if err != nil || got.Headers["Location"] != "/x" || got.Status != 201 {
			t.Fatalf("replay before corruption: %+v %v", got, err)
		}
		exec(t, db, "UPDATE idempotency_keys SET response_headers = ? WHERE user_id = ?", `{"Location":`, "u1")
		_, _, err = db.ClaimIdempotencyKey(ctx, rec, columnsNow)
		wantCorrupt(t, "ClaimIdempotencyKey", err, log, "u1/k1")

		row := ranking.Row{Level: region.County, PeriodKind: indicator.Month, Period: "2026-02", RegionCode: "370502",
			ParentCode: "370500", Score: 90, Rank: 1, Band: index.Green, ComputedAt: columnsNow}
		if err := db.ReplaceResults(ctx, region.County, indicator.Month, "2026-02", []ranking.Row{row}); err != nil {
			t.Fatal(err)
		}
		exec(t, db, "UPDATE index_results SET detail = ? WHERE region_code = ?", `{"codes":[`, "370502")
		_, err = db.FindResults(ctx, region.County, indicator.Month, "2026-02", func(string) bool { return true })
		wantCorrupt(t, "FindResults", err, log, "county/month/2026-02/370502")
		// Reads that leave the detail out are unaffected.
		if rows, err := db.FindResults(ctx, region.County, indicator.Month, "2026-02", nil); err != nil || len(rows) != 1 {
			t.Fatalf("FindResults without detail: %+v %v", rows, err)
		}
		if rows, err := db.FindSeries(ctx, "370502", indicator.Month, "2026-01", "2026-03"); err != nil || len(rows) != 1 ||
			rows[0].Score != 90 {
			t.Fatalf("FindSeries: %+v %v", rows, err)
		}
	})
}
