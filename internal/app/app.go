// Package app wires the configuration, stores and services into a running
// API. main uses it, and so do the end-to-end tests, so that both run the
// same assembly.
package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"pingan/api"
	"pingan/internal/audit"
	"pingan/internal/auth"
	"pingan/internal/blob"
	"pingan/internal/category"
	"pingan/internal/config"
	"pingan/internal/dispute"
	"pingan/internal/export"
	"pingan/internal/heatmap"
	"pingan/internal/incident"
	"pingan/internal/indicator"
	"pingan/internal/intake"
	"pingan/internal/notify"
	"pingan/internal/photo"
	"pingan/internal/pii"
	"pingan/internal/ranking"
	"pingan/internal/region"
	"pingan/internal/report"
	"pingan/internal/store"
	"pingan/internal/user"
	"pingan/internal/warning"
	"pingan/internal/workload"
)

// App is an assembled server.
type App struct {
	Config  *config.Config
	DB      *store.DB
	Blob    blob.Store
	Handler http.Handler
	// Services, for the command line and tests.
	Auth       *auth.Service
	Users      *user.Service
	Regions    *region.Service
	Categories *category.Service
	Incidents  *incident.Service
	Disputes   *dispute.Service
	Indicators *indicator.Service
	Ranking    *ranking.Service
	Warnings   *warning.Service
	Reports    *report.Service
	Photos     *photo.Service
	Notify     *notify.Service
	Sealer     *pii.Sealer
	Logger     *slog.Logger
	// GeneratedKeys is set when keys were made in the data directory.
	GeneratedKeys bool
}

// Open connects to the database and blob store, applies migrations and
// builds the services and router. Now is the clock (time.Now in main).
func Open(ctx context.Context, cfg *config.Config, logger *slog.Logger, clock func() time.Time) (*App, error) {
	// The databases keep microseconds: a time handed out must read back equal.
	now := func() time.Time { return clock().UTC().Truncate(time.Microsecond) }
	// Checked before anything is opened or generated, like config.Load's.
	deadlines, err := dispute.ParseDeadlines(cfg.DisputeDeadlines)
	if err != nil {
		return nil, fmt.Errorf("PINGAN_DISPUTE_DEADLINES: %v", err)
	}
	generated, err := ensureKeys(cfg)
	if err != nil {
		return nil, fmt.Errorf("PINGAN_DATA_DIR: keys: %w", err)
	}
	sealer, err := pii.NewSealer(cfg.DataKey)
	if err != nil {
		return nil, fmt.Errorf("PINGAN_DATA_KEY: %w", err)
	}
	db, err := store.Open(ctx, cfg.DB, sealer)
	if err != nil {
		return nil, fmt.Errorf("PINGAN_DB: %w", err)
	}
	db.SetDeadlines(deadlines)
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("PINGAN_DB: %w", err)
	}
	bs, err := blob.Open(ctx, cfg.Blob)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("PINGAN_BLOB: %w", err)
	}
	signer, err := auth.NewSigner(cfg.JWTKeys, now)
	if err != nil {
		db.Close()
		return nil, err
	}
	a := &App{Config: cfg, DB: db, Blob: bs, Sealer: sealer, Logger: logger, GeneratedKeys: generated}
	a.Auth = auth.NewService(db, db, db, db, db, signer, sealer, now)
	a.Users = user.NewService(db, db, db, auth.HashPassword, auth.CheckPasswordPolicy, a.Auth, now)
	a.Regions = region.NewService(db, db, now)
	a.Categories = category.NewService(db, db, now)
	a.Notify = notify.NewService(db, db, db, db, notify.Webhook{URL: cfg.WebhookURL, Secret: cfg.WebhookSecret, Logger: logger}, now)
	a.Notify.Start()
	warnings := warning.DefaultSettings()
	warnings.OverdueCount = cfg.WarningOverdueCount
	a.Warnings = warning.NewService(db, db, IndexResults{db}, WarningNotices{a.Notify}, db, warnings, cfg.Location, now, logger)
	a.Reports = report.NewService(db, db, a.Regions, a.Categories, cfg.Location, now)
	reports := a.Reports
	// The index runner also runs early warning's detection jobs and counts
	// the period summary's days.
	a.Ranking = ranking.NewService(db, db, db, db, cfg.Location, now, logger, warningTask(a.Warnings, warnings, cfg.Location),
		summaryTask(reports, cfg.Location))
	places := intake.NewPlaces(db, cityBox(cfg.CityBBox), cfg.GridRadiusKM)
	a.Incidents = incident.NewService(db, db, places, db, a.Ranking, db, cfg.Location, now)
	a.Disputes = dispute.NewService(db, db, places, db, db, db, db, disputeNotices{a.Notify}, a.Ranking, sealer, deadlines, cfg.Location, now)
	a.Photos = photo.NewService(db, bs, db, db, now)
	if err := indicator.LoadDefaults(ctx, db, now()); err != nil {
		db.Close()
		return nil, fmt.Errorf("PINGAN_DB: %w", err)
	}
	a.Indicators = indicator.NewService(db, db, db, db, db, a.Ranking, cfg.Location, now)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db.SQL(), "pingan"))
	mac := hmac.New(sha256.New, cfg.DataKey)
	mac.Write([]byte("pingan/cursor"))
	a.Handler = api.New(api.Deps{
		Auth: a.Auth, Regions: a.Regions, Users: a.Users, Categories: a.Categories,
		Incidents: a.Incidents, Disputes: a.Disputes, Indicators: a.Indicators, Ranking: a.Ranking, Photos: a.Photos, Audit: audit.NewReader(db, db), Exports: export.NewService(db, now),
		Ready:    map[string]api.Checker{"database": db, "blob": bs},
		Logger:   logger,
		Registry: reg, Production: cfg.Production, TrustedProxies: cfg.TrustedProxies, CursorKey: mac.Sum(nil),
		Idempotency: db, Tx: db, Now: now,
		Notify: a.Notify, Warnings: a.Warnings,
		Reports:  reports,
		Workload: workload.NewService(db, db, cfg.Location, now),
		Heatmaps: heatmap.NewService(db, db, db, cfg.HeatmapMinCount, cfg.Location, now),
	})
	return a, nil
}

// cityBox is PINGAN_CITY_BBOX as intake reads it; nil when unset.
func cityBox(b *config.BBox) *intake.Box {
	if b == nil {
		return nil
	}
	return &intake.Box{MinLng: b.MinLng, MinLat: b.MinLat, MaxLng: b.MaxLng, MaxLat: b.MaxLat}
}

// Close stops background work and releases the database.
func (a *App) Close() error {
	a.Photos.Close()
	a.Notify.Close()
	return a.DB.Close()
}
