// Package benchdb is what the server benchmark's programs (bench/rawfloor,
// bench/load) share: opening MariaDB the way the API does, the incidents
// row, and the demo grids with their ancestors.
package benchdb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Open connects to dsn, a go-sql-driver DSN (user:pass@tcp(host:port)/db?…)
// with or without the mysql:// prefix PINGAN_DB uses. The driver settings and
// the pool (32 open, 32 idle) are those of internal/store, so that the raw
// floor and the API pay the same per-query costs: client-side interpolation
// (no prepare round trip), UTC times, utf8mb4.
func Open(ctx context.Context, dsn string) (*sql.DB, error) {
	mc, err := mysql.ParseDSN(strings.TrimPrefix(dsn, "mysql://"))
	if err != nil {
		return nil, fmt.Errorf("dsn: %w", err)
	}
	mc.ParseTime = true
	mc.Loc = time.UTC
	mc.InterpolateParams = true
	if mc.Params == nil {
		mc.Params = map[string]string{}
	}
	mc.Params["time_zone"] = "'+00:00'"
	mc.Params["charset"] = "utf8mb4"
	// Through FormatDSN, as gorm's driver does, so that charset is read as
	// the driver's option rather than sent as a system variable.
	db, err := sql.Open("mysql", mc.FormatDSN())
	if err != nil {
		return nil, fmt.Errorf("dsn: %w", err)
	}
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	db.SetConnMaxLifetime(5 * time.Minute)
	db.SetConnMaxIdleTime(time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("reach database: %w", err)
	}
	return db, nil
}

// Columns are the columns of the incidents table (migration 00002), in the
// order of Incident.Args and Incident.Scan.
const Columns = "id, case_no, category, severity, status, description, lat, lng, address, " +
	"region_code, community_code, township_code, county_code, occurred_at, reported_at, " +
	"client_created_at, reporter_id, version, created_at, updated_at"

// NumColumns is the number of names in Columns.
const NumColumns = 20

// Incident is one row of the incidents table.
type Incident struct {
	ID, CaseNo, Category, Severity, Status, Description string
	Lat, Lng                                            *float64
	Address                                             string
	RegionCode, CommunityCode, TownshipCode, CountyCode string
	OccurredAt, ReportedAt                              time.Time
	ClientCreatedAt                                     *time.Time
	ReporterID                                          string
	Version                                             int
	CreatedAt, UpdatedAt                                time.Time
}

// Args returns the row's values in the order of Columns, ready for an INSERT.
func (r *Incident) Args() []any {
	return r.AppendArgs(make([]any, 0, NumColumns))
}

// AppendArgs appends the row's values, in the order of Columns, to args.
func (r *Incident) AppendArgs(args []any) []any {
	var client any
	if r.ClientCreatedAt != nil {
		client = *r.ClientCreatedAt
	}
	var lat, lng any
	if r.Lat != nil {
		lat = *r.Lat
	}
	if r.Lng != nil {
		lng = *r.Lng
	}
	return append(args, r.ID, r.CaseNo, r.Category, r.Severity, r.Status, r.Description, lat, lng, r.Address,
		r.RegionCode, r.CommunityCode, r.TownshipCode, r.CountyCode, r.OccurredAt, r.ReportedAt,
		client, r.ReporterID, r.Version, r.CreatedAt, r.UpdatedAt)
}

// Scan reads one row selected with Columns.
func (r *Incident) Scan(rows *sql.Rows) error {
	var lat, lng sql.NullFloat64
	var client sql.NullTime
	err := rows.Scan(&r.ID, &r.CaseNo, &r.Category, &r.Severity, &r.Status, &r.Description, &lat, &lng, &r.Address,
		&r.RegionCode, &r.CommunityCode, &r.TownshipCode, &r.CountyCode, &r.OccurredAt, &r.ReportedAt,
		&client, &r.ReporterID, &r.Version, &r.CreatedAt, &r.UpdatedAt)
	if err != nil {
		return err
	}
	r.Lat, r.Lng, r.ClientCreatedAt = nil, nil, nil
	if lat.Valid {
		r.Lat = &lat.Float64
	}
	if lng.Valid {
		r.Lng = &lng.Float64
	}
	if client.Valid {
		r.ClientCreatedAt = &client.Time
	}
	return nil
}

// Placeholders returns "(?, …, ?)" for one row, repeated rows times and
// joined by commas: the VALUES list of a multi-row INSERT.
func Placeholders(rows int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", NumColumns), ", ") + ")"
	var b strings.Builder
	b.Grow(rows * (len(one) + 1))
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(one)
	}
	return b.String()
}
