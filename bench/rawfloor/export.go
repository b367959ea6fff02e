package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"log"
	"net/http"
	"strconv"
	"time"
)

// The export floor: the least a Go program can do to send the file of GET
// /api/v1/exports/incidents?format=csv for the whole city — one query
// streamed from database/sql to encoding/csv, no pages, no ORM, no scope,
// no audit — with the same columns, labels, names, local times and bytes,
// so that the two sides' rows per second compare like for like.

// exportSQL reads every incident in the export's order, only the columns the
// file holds.
const exportSQL = "SELECT case_no, category, status, severity, county_code, township_code, community_code, region_code, " +
	"occurred_at, reported_at, description, address, lat, lng FROM incidents ORDER BY created_at DESC, id DESC"

// The labels of api/exportcolumns.go, so that the floor writes the API's
// bytes.
var (
	exportHeader = []string{"事件编号", "类别", "状态", "严重程度", "县区", "镇街", "社区", "网格", "发生时间", "上报时间",
		"事件描述", "地址", "纬度", "经度"}
	statusZH = map[string]string{"reported": "已上报", "accepted": "已受理", "in_progress": "处置中", "resolved": "已处置",
		"closed": "已办结", "rejected": "已驳回", "cancelled": "已撤销"}
	severityZH = map[string]string{"low": "低", "medium": "中", "high": "高", "critical": "紧急"}
)

// export streams every incident as CSV (UTF-8 with a BOM, CRLF).
func (s *server) export(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	// A million rows outlive the server's WriteTimeout.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	regions, err := s.names(ctx, "SELECT code, name FROM regions")
	if err == nil {
		var cats map[string]string
		cats, err = s.names(ctx, "SELECT code, name_zh FROM categories WHERE kind = 'incident'")
		if err == nil {
			err = s.writeExport(ctx, w, regions, cats)
		}
	}
	if err != nil {
		log.Printf("rawfloor: export: %v", err)
		// After the first byte the status cannot change; cut the
		// connection as the API does.
		panic(http.ErrAbortHandler)
	}
}

func (s *server) writeExport(ctx context.Context, w http.ResponseWriter, regions, cats map[string]string) error {
	rows, err := s.db.QueryContext(ctx, exportSQL)
	if err != nil {
		return err
	}
	defer rows.Close()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="incidents.csv"`)
	buf := bufio.NewWriterSize(w, 32<<10)
	if _, err := buf.WriteString("\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(buf)
	cw.UseCRLF = true
	if err := cw.Write(exportHeader); err != nil {
		return err
	}
	var (
		caseNo, category, status, severity, county, township, community, grid, desc, address string
		occurred, reported                                                                   time.Time
		lat, lng                                                                             sql.NullFloat64
	)
	rec := make([]string, len(exportHeader))
	for rows.Next() {
		if err := rows.Scan(&caseNo, &category, &status, &severity, &county, &township, &community, &grid,
			&occurred, &reported, &desc, &address, &lat, &lng); err != nil {
			return err
		}
		rec[0], rec[1], rec[2], rec[3] = neutralise(caseNo), label(cats, category), label(statusZH, status), label(severityZH, severity)
		rec[4], rec[5], rec[6], rec[7] = regions[county], regions[township], regions[community], regions[grid]
		rec[8], rec[9] = occurred.In(s.loc).Format(time.DateTime), reported.In(s.loc).Format(time.DateTime)
		rec[10], rec[11], rec[12], rec[13] = neutralise(desc), neutralise(address), number(lat), number(lng)
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return buf.Flush()
}

// names reads a code → name table.
func (s *server) names(ctx context.Context, query string) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var code, name string
		if err := rows.Scan(&code, &name); err != nil {
			return nil, err
		}
		out[code] = name
	}
	return out, rows.Err()
}

func label(m map[string]string, v string) string {
	if l, ok := m[v]; ok {
		return l
	}
	return neutralise(v)
}

// neutralise is export.Neutralise: a formula's lead character gets a '.
func neutralise(s string) string {
	if s != "" {
		switch s[0] {
		case '=', '+', '-', '@', '\t', '\r':
			return "'" + s
		}
	}
	return s
}

func number(x sql.NullFloat64) string {
	if !x.Valid {
		return ""
	}
	return strconv.FormatFloat(x.Float64, 'f', -1, 64)
}
