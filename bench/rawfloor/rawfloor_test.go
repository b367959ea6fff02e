package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"pingan/bench/internal/benchdb"
	"pingan/bench/internal/benchtest"
	"pingan/internal/demo"
)

func TestCreateAndListOnMariaDB(t *testing.T) {
	ctx := context.Background()
	db, err := benchdb.Open(ctx, benchtest.MigratedDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	g, err := benchdb.FindGrid(demo.FuqianGrid1)
	if err != nil {
		t.Fatal(err)
	}
	reporter, err := lookupUser(ctx, db, "nobody")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{db: db, grid: g, reporterID: reporter}

	body := `{"category":"public_order","severity":"low","description":"bench 1","location":{"lat":37.45,"lng":118.58,"address":"府前社区"},"occurred_at":"2026-11-27T08:00:00+08:00"}`
	var ids []string
	for range 22 {
		w := httptest.NewRecorder()
		s.create(w, httptest.NewRequest(http.MethodPost, "/incidents", strings.NewReader(body)))
		var resp struct{ ID string }
		if w.Code != http.StatusCreated || json.Unmarshal(w.Body.Bytes(), &resp) != nil || resp.ID == "" {
			t.Fatalf("POST: %d %s", w.Code, w.Body)
		}
		ids = append(ids, resp.ID)
	}
	var row struct {
		caseNo, status, township, occurred string
		version                            int
	}
	err = db.QueryRow("SELECT case_no, status, township_code, DATE_FORMAT(occurred_at, '%Y-%m-%d %H:%i'), version FROM incidents WHERE id = ?",
		ids[0]).Scan(&row.caseNo, &row.status, &row.township, &row.occurred, &row.version)
	if err != nil {
		t.Fatal(err)
	}
	if row.caseNo != "RAW-"+ids[0] || row.status != "reported" || row.township != demo.DongchengStreet ||
		row.occurred != "2026-11-27 00:00" || row.version != 1 {
		t.Errorf("stored row %+v", row)
	}

	w := httptest.NewRecorder()
	s.list(w, httptest.NewRequest(http.MethodGet, "/incidents?township="+demo.DongchengStreet+"&limit=20", nil))
	var page listResponse
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &page) != nil {
		t.Fatalf("GET: %d %s", w.Code, w.Body)
	}
	// UUIDv7s made in one process grow, so newest first is the reverse.
	if len(page.Items) != 20 || page.NextCursor == nil || page.Items[0].ID != ids[21] || page.Items[19].ID != ids[2] {
		t.Errorf("page of %d items, cursor %v, first %s", len(page.Items), page.NextCursor, page.Items[0].ID)
	}

	for _, bad := range []struct{ method, target, body string }{
		{http.MethodPost, "/incidents", `{"category":"x","severity":"low","occurred_at":"2026-11-27T08:00:00Z","status":"closed"}`},
		{http.MethodPost, "/incidents", `{"severity":"low"}`},
		{http.MethodGet, "/incidents?township=370502003&limit=101", ""},
		{http.MethodGet, "/incidents", ""},
	} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(bad.method, bad.target, strings.NewReader(bad.body))
		if bad.method == http.MethodPost {
			s.create(w, r)
		} else {
			s.list(w, r)
		}
		if w.Code != http.StatusBadRequest {
			t.Errorf("%s %s %s: %d, want 400", bad.method, bad.target, bad.body, w.Code)
		}
	}
}
