package main

import (
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"log"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"pingan/bench/internal/benchdb"
)

// server holds the two handlers' shared state.
type server struct {
	db         *sql.DB
	grid       benchdb.Grid
	reporterID string
	loc        *time.Location // of the export's local times
}

// createRequest is the body of POST /api/v1/incidents (SPEC §4.3, §6.4).
type createRequest struct {
	Category        string     `json:"category"`
	Severity        string     `json:"severity"`
	Description     string     `json:"description"`
	Location        *location  `json:"location"`
	OccurredAt      time.Time  `json:"occurred_at"`
	ClientCreatedAt *time.Time `json:"client_created_at"`
	PhotoIDs        []string   `json:"photo_ids"`
}

type location struct {
	Lat     *float64 `json:"lat"`
	Lng     *float64 `json:"lng"`
	Address string   `json:"address"`
}

// insertSQL is the one statement of the ingest floor.
var insertSQL = "INSERT INTO incidents (" + benchdb.Columns + ") VALUES " + benchdb.Placeholders(1)

// listSQL is the first-page query the API runs for one township.
const listSQL = "SELECT " + benchdb.Columns + " FROM incidents WHERE township_code = ? " +
	"ORDER BY created_at DESC, id DESC LIMIT ?"

// create decodes the API's body and inserts the row the API would insert,
// in one statement (autocommit: the 201 goes out after the COMMIT).
func (s *server) create(w http.ResponseWriter, r *http.Request) {
	var req createRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_argument", err.Error())
		return
	}
	if req.Category == "" || req.Severity == "" || req.OccurredAt.IsZero() {
		writeError(w, http.StatusBadRequest, "invalid_argument", "category, severity and occurred_at are required")
		return
	}
	id, err := uuid.NewV7()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "id")
		return
	}
	now := time.Now().UTC()
	row := benchdb.Incident{
		ID: id.String(), CaseNo: "RAW-" + id.String(), Category: req.Category, Severity: req.Severity,
		Status: "reported", Description: req.Description,
		RegionCode: s.grid.Code, CommunityCode: s.grid.CommunityCode, TownshipCode: s.grid.TownshipCode,
		CountyCode: s.grid.CountyCode, OccurredAt: req.OccurredAt.UTC(), ReportedAt: now,
		ReporterID: s.reporterID, Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	if req.Location != nil {
		row.Lat, row.Lng, row.Address = req.Location.Lat, req.Location.Lng, req.Location.Address
	}
	if req.ClientCreatedAt != nil {
		t := req.ClientCreatedAt.UTC()
		row.ClientCreatedAt = &t
	}
	if _, err := s.db.ExecContext(r.Context(), insertSQL, row.Args()...); err != nil {
		log.Printf("rawfloor: insert: %v", err)
		writeError(w, http.StatusInternalServerError, "internal", "insert failed")
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": row.ID})
}

// list answers the first page of one township's incidents, newest first.
func (s *server) list(w http.ResponseWriter, r *http.Request) {
	township := r.URL.Query().Get("township")
	if township == "" {
		writeError(w, http.StatusBadRequest, "invalid_argument", "township is required")
		return
	}
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeError(w, http.StatusBadRequest, "invalid_argument", "limit must be 1…100")
			return
		}
		limit = n
	}
	rows, err := s.db.QueryContext(r.Context(), listSQL, township, limit+1)
	if err != nil {
		log.Printf("rawfloor: list: %v", err)
		writeError(w, http.StatusInternalServerError, "internal", "query failed")
		return
	}
	defer rows.Close()
	items := make([]incidentJSON, 0, limit+1)
	for rows.Next() {
		var row benchdb.Incident
		if err := row.Scan(rows); err != nil {
			log.Printf("rawfloor: scan: %v", err)
			writeError(w, http.StatusInternalServerError, "internal", "scan failed")
			return
		}
		items = append(items, toJSON(&row))
	}
	if err := rows.Err(); err != nil {
		log.Printf("rawfloor: rows: %v", err)
		writeError(w, http.StatusInternalServerError, "internal", "query failed")
		return
	}
	// The extra row only says that there is a next page; the cursor is
	// the last returned row's (created_at, id), as the API's is.
	var next *string
	if len(items) > limit {
		items = items[:limit]
		last := items[limit-1]
		c := base64.RawURLEncoding.EncodeToString([]byte(last.CreatedAt.Format(time.RFC3339Nano) + "|" + last.ID))
		next = &c
	}
	writeJSON(w, http.StatusOK, listResponse{Items: items, NextCursor: next})
}

type listResponse struct {
	Items      []incidentJSON `json:"items"`
	NextCursor *string        `json:"next_cursor"`
}

// incidentJSON is an incident as the API shows it.
type incidentJSON struct {
	ID              string     `json:"id"`
	CaseNo          string     `json:"case_no"`
	Category        string     `json:"category"`
	Severity        string     `json:"severity"`
	Status          string     `json:"status"`
	Description     string     `json:"description"`
	Location        location   `json:"location"`
	RegionCode      string     `json:"region_code"`
	OccurredAt      time.Time  `json:"occurred_at"`
	ReportedAt      time.Time  `json:"reported_at"`
	ClientCreatedAt *time.Time `json:"client_created_at"`
	ReporterID      string     `json:"reporter_id"`
	Version         int        `json:"version"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

func toJSON(r *benchdb.Incident) incidentJSON {
	return incidentJSON{
		ID: r.ID, CaseNo: r.CaseNo, Category: r.Category, Severity: r.Severity, Status: r.Status,
		Description: r.Description, Location: location{Lat: r.Lat, Lng: r.Lng, Address: r.Address},
		RegionCode: r.RegionCode, OccurredAt: r.OccurredAt, ReportedAt: r.ReportedAt,
		ClientCreatedAt: r.ClientCreatedAt, ReporterID: r.ReporterID, Version: r.Version,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		log.Printf("rawfloor: write response: %v", err)
	}
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
