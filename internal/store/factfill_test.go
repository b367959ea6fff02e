package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"pingan/internal/access"
	"pingan/internal/app"
	"pingan/internal/config"
	"pingan/internal/demo"
	"pingan/internal/dispute"
	"pingan/internal/incident"
	"pingan/internal/testenv"
)

// TestFactFillMatchesLiveFacts: migration 11 derives from the timelines
// exactly the facts the live actions wrote. Cases are walked through the
// services (late acceptance, resolution, follow-ups, closing, reopening,
// escalation, a township mediator settling a community case, failure and
// referral, a case left overdue and scanned); their facts are kept, erased,
// filled again by the migration's code, and compared row by row.
func TestFactFillMatchesLiveFacts(t *testing.T) {
	for _, backend := range []string{"sqlite", "mysql"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			vars := map[string]string{"PINGAN_DATA_DIR": t.TempDir(), "PINGAN_DISPUTE_DEADLINES": "accept.medium=1h,resolve.community=5h"}
			if backend == "mysql" {
				vars["PINGAN_DB"] = testenv.MySQLDSN(t)
			}
			cfg, err := config.Load(func(k string) string { return vars[k] })
			if err != nil {
				t.Fatal(err)
			}
			clk := &testClock{at: time.Date(2026, 9, 1, 2, 0, 0, 0, time.UTC)}
			a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), clk.now)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { a.Close() })
			if err := demo.Load(ctx, demo.Deps{Store: a.DB, Users: a.Users, Photos: a.Photos}); err != nil {
				t.Fatal(err)
			}
			who := func(username string) access.Principal {
				u, err := a.DB.FindUserByUsername(ctx, username)
				if err != nil {
					t.Fatal(err)
				}
				path, err := a.DB.FindRegionPath(ctx, u.RegionCode)
				if err != nil {
					t.Fatal(err)
				}
				return access.Principal{UserID: u.ID, Username: u.Username, Role: u.Role, RegionCode: u.RegionCode, RegionPath: path}
			}
			worker, med, town, admin := who("demo-gridworker"), who("demo-mediator"), who("demo-township-mediator"), who("demo-admin")
			create := func() string {
				d, err := a.Disputes.CreateDispute(ctx, worker, dispute.NewDispute{Category: "neighbourhood", Description: "邻里噪音纠纷",
					OccurredAt: clk.now().Add(-time.Hour), Risk: dispute.RiskMedium,
					Parties: []dispute.Party{{Role: dispute.Applicant, Name: "张三", Phone: "13912345678"}}})
				if err != nil {
					t.Fatal(err)
				}
				return d.ID
			}
			act := func(p access.Principal, id string, acts ...dispute.Act) {
				t.Helper()
				for _, x := range acts {
					d, err := a.Disputes.FindDispute(ctx, p, id)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := a.Disputes.Apply(ctx, p, id, d.Version, x); err != nil {
						t.Fatalf("%s by %s: %v", x.Action, p.Username, err)
					}
					clk.advance(20 * time.Minute)
				}
			}
			sat := func(n int) *int { return &n }
			accept, start := dispute.Act{Action: "accept"}, dispute.Act{Action: "start"}
			resolve := dispute.Act{Action: "resolve", Agreement: "双方和解"}

			settled := create()
			act(med, settled, accept, start, resolve, dispute.Act{Action: "follow_up", Satisfaction: sat(4)})
			clk.advance(8 * 24 * time.Hour)
			act(med, settled, dispute.Act{Action: "follow_up", Satisfaction: sat(2)}, dispute.Act{Action: "close"},
				dispute.Act{Action: "reopen", Reason: "协议未履行"})
			clk.advance(2 * time.Hour) // accepted late
			act(med, settled, accept, start, resolve)

			byTownship := create()
			act(town, byTownship, accept, start, resolve)

			escalated := create()
			act(med, escalated, accept, start)
			clk.advance(6 * time.Hour) // the resolve deadline passes
			act(med, escalated, dispute.Act{Action: "escalate", Reason: "需街道协调"})
			act(town, escalated, accept, start, dispute.Act{Action: "fail", Reason: "分歧过大"},
				dispute.Act{Action: "refer", To: "litigation"})

			early := create()
			act(admin, early, dispute.Act{Action: "escalate", Reason: "涉及多个社区"}) // before its accept deadline

			overdue := create()
			clk.advance(3 * time.Hour)
			if _, err := a.Disputes.NotifyDue(ctx); err != nil {
				t.Fatal(err)
			}

			// Incidents: accepted, resolved and closed through the service.
			inc := incident.Incident{ID: "0195500a-0000-7000-8000-00000000000a", CaseNo: "SJ-370502-20260901-0001", Category: "public_order",
				Severity: incident.Medium, Status: incident.Reported, Description: "深夜噪音", RegionCode: demo.FuqianGrid1,
				CommunityCode: demo.FuqianCommunity, TownshipCode: demo.DongchengStreet, CountyCode: demo.DongyingDistrict,
				OccurredAt: clk.now().Add(-time.Hour), ReportedAt: clk.now(), ReporterID: worker.UserID, PhotoIDs: []string{},
				Version: 1, CreatedAt: clk.now(), UpdatedAt: clk.now()}
			if err := a.DB.BulkInsertIncidents(ctx, []incident.Incident{inc}, nil, nil, nil); err != nil {
				t.Fatal(err)
			}
			for v, action := range []string{"accept", "start", "resolve", "close"} {
				if _, err := a.Incidents.Transition(ctx, admin, inc.ID, v+1, action, ""); err != nil {
					t.Fatalf("incident %s: %v", action, err)
				}
				clk.advance(time.Hour)
			}

			facts, deadlines := dumpFacts(t, a.DB.SQL()), dumpDeadlines(t, a.DB.SQL())
			for _, want := range []string{
				settled + " resolved community", settled + " followed_up community 4", settled + " followed_up community 2",
				settled + " reopened community", byTownship + " resolved township", escalated + " escalated township",
				escalated + " referred township", inc.ID + " closed ",
			} {
				if !strings.Contains(facts, want) {
					t.Fatalf("live facts lack %q:\n%s", want, facts)
				}
			}
			for _, want := range []string{
				settled + " accept community met=true breached=true ended=true",
				escalated + " resolve community met=false breached=true ended=true",
				early + " accept community met=false breached=false ended=true",
				overdue + " accept community met=false breached=true ended=false",
			} {
				if !strings.Contains(deadlines, want) {
					t.Fatalf("live deadlines lack %q:\n%s", want, deadlines)
				}
			}
			for _, q := range []string{"DELETE FROM case_facts", "DELETE FROM case_deadlines"} {
				if _, err := a.DB.SQL().Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			if err := a.DB.FillFacts(ctx, clk.now()); err != nil {
				t.Fatal(err)
			}
			if got := dumpFacts(t, a.DB.SQL()); got != facts {
				t.Fatalf("filled facts\n%s\nlive facts\n%s", got, facts)
			}
			if got := dumpDeadlines(t, a.DB.SQL()); got != deadlines {
				t.Fatalf("filled deadlines\n%s\nlive deadlines\n%s", got, deadlines)
			}
		})
	}
}

type testClock struct {
	mu sync.Mutex
	at time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.at = c.at.Add(d)
	c.mu.Unlock()
}

// dumpFacts lists every case fact, one per line, in id order.
func dumpFacts(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query(`SELECT id, case_id, case_kind, fact, at, level, satisfaction, category, county_code, township_code,
		community_code, region_code, reporter_id, reported_at FROM case_facts ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, caseID, kind, f, level, cat, county, township, community, grid, reporter string
		var at, reported time.Time
		var sat sql.NullInt64
		if err := rows.Scan(&id, &caseID, &kind, &f, &at, &level, &sat, &cat, &county, &township, &community, &grid, &reporter,
			&reported); err != nil {
			t.Fatal(err)
		}
		s := ""
		if sat.Valid {
			s = fmt.Sprint(sat.Int64)
		}
		fmt.Fprintf(&b, "%s %s %s %s %s %s/%s/%s/%s/%s %s %s %s\n", caseID, f, level, s, kind, county, township, community,
			grid, cat, reporter, at.UTC().Format(time.RFC3339Nano), reported.UTC().Format(time.RFC3339Nano)+" "+id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// dumpDeadlines lists every deadline, one per line, in id order.
func dumpDeadlines(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query(`SELECT id, case_id, case_kind, kind, level, category, county_code, township_code, community_code,
		region_code, reporter_id, started_at, due_at, met_at, breached_at, ended_at FROM case_deadlines ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	stamp := func(t sql.NullTime) string {
		if !t.Valid {
			return "-"
		}
		return t.Time.UTC().Format(time.RFC3339Nano)
	}
	for rows.Next() {
		var id, caseID, caseKind, kind, level, cat, county, township, community, grid, reporter string
		var started, due time.Time
		var met, breached, ended sql.NullTime
		if err := rows.Scan(&id, &caseID, &caseKind, &kind, &level, &cat, &county, &township, &community, &grid, &reporter,
			&started, &due, &met, &breached, &ended); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s %s met=%v breached=%v ended=%v %s %s/%s/%s/%s/%s %s started %s due %s met %s breached %s ended %s %s\n",
			caseID, kind, level, met.Valid, breached.Valid, ended.Valid, caseKind, county, township, community, grid, cat, reporter,
			started.UTC().Format(time.RFC3339Nano), due.UTC().Format(time.RFC3339Nano), stamp(met), stamp(breached), stamp(ended), id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
