// Package api is the HTTP layer: the one route table, middleware, request
// and response types matching openapi.yaml, and the error mapping. Handlers
// bind and validate, convert, call a domain service and map the error; no
// SQL and no business rules live here.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/auth"
	"pingan/internal/category"
	"pingan/internal/deps"
	"pingan/internal/dispute"
	"pingan/internal/errs"
	"pingan/internal/export"
	"pingan/internal/heatmap"
	"pingan/internal/idempotency"
	"pingan/internal/incident"
	"pingan/internal/indicator"
	"pingan/internal/notify"
	"pingan/internal/photo"
	"pingan/internal/ranking"
	"pingan/internal/region"
	"pingan/internal/report"
	"pingan/internal/txn"
	"pingan/internal/user"
	"pingan/internal/warning"
	"pingan/internal/workload"
)

// RequestTimeout bounds the work of one API request.
const RequestTimeout = 10 * time.Second

// Checker is a dependency that readiness probes (the database, the blob store).
type Checker interface {
	Ping(ctx context.Context) error
}

// Deps is everything the HTTP layer calls.
type Deps struct {
	Auth       *auth.Service
	Regions    *region.Service
	Users      *user.Service
	Categories *category.Service
	Incidents  *incident.Service
	Disputes   *dispute.Service
	Indicators *indicator.Service
	Ranking    *ranking.Service
	Photos     *photo.Service
	Notify     *notify.Service
	Warnings   *warning.Service
	Audit      *audit.Reader
	Exports    *export.Service
	Reports    *report.Service
	Workload   *workload.Service
	Heatmaps   *heatmap.Service
	// Ready are probed by /readyz, by name.
	Ready      map[string]Checker
	Logger     *slog.Logger
	Registry   *prometheus.Registry
	Production bool
	// TrustedProxies are the addresses and CIDRs whose X-Forwarded-For
	// names the client (config.ParseTrustedProxies); none when empty.
	TrustedProxies []string
	// CursorKey signs page cursors.
	CursorKey []byte
	// Idempotency and Tx make POSTs safe to repeat; Now is the clock.
	Idempotency idempotency.Store
	Tx          txn.Transactor
	Now         func() time.Time
}

type server struct {
	auth       *auth.Service
	regions    *region.Service
	users      *user.Service
	categories *category.Service
	incidents  *incident.Service
	disputes   *dispute.Service
	indicators *indicator.Service
	ranking    *ranking.Service
	photos     *photo.Service
	notify     *notify.Service
	warnings   *warning.Service
	auditLog   *audit.Reader
	exports    *export.Service
	reports    *report.Service
	workload   *workload.Service
	heatmaps   *heatmap.Service
	engine     *gin.Engine
	ready      map[string]Checker
	cursors    cursors
	idem       idempotency.Store
	tx         txn.Transactor
	now        func() time.Time
}

// New builds the router. The engine is returned so that tests can list its
// routes against openapi.yaml. Every dependency but Ready and Now (default
// time.Now) is required: a missing one panics, naming it, at start-up.
func New(d Deps) *gin.Engine {
	deps.Require("api.New", "Auth", d.Auth, "Regions", d.Regions, "Users", d.Users, "Categories", d.Categories,
		"Incidents", d.Incidents, "Disputes", d.Disputes, "Indicators", d.Indicators, "Ranking", d.Ranking,
		"Photos", d.Photos, "Notify", d.Notify, "Warnings", d.Warnings, "Audit", d.Audit, "Exports", d.Exports, "Reports", d.Reports, "Workload", d.Workload, "Heatmaps", d.Heatmaps, "Logger", d.Logger, "Registry", d.Registry,
		"CursorKey", d.CursorKey, "Idempotency", d.Idempotency, "Tx", d.Tx)
	// Release mode always: debug mode only prints the route table and a
	// warning, and production must never run in it.
	gin.SetMode(gin.ReleaseMode)
	s := &server{auth: d.Auth, regions: d.Regions, users: d.Users, categories: d.Categories,
		incidents: d.Incidents, disputes: d.Disputes, indicators: d.Indicators, ranking: d.Ranking, photos: d.Photos, notify: d.Notify, warnings: d.Warnings, auditLog: d.Audit, exports: d.Exports,
		reports: d.Reports, workload: d.Workload, heatmaps: d.Heatmaps, ready: d.Ready, cursors: cursors{key: d.CursorKey}, idem: d.Idempotency, tx: d.Tx, now: d.Now}
	if s.now == nil {
		s.now = time.Now
	}

	r := gin.New()
	s.engine = r
	r.HandleMethodNotAllowed = true
	// No redirects to other spellings of a path: a client gets the route it
	// named or a 404.
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.ContextWithFallback = true
	// The client address is the peer's, or, from a trusted proxy, the one
	// X-Forwarded-For names (Gin takes the right-most address that is no
	// trusted proxy); from anyone else X-Forwarded-For could forge the
	// address that login limits count by (docs/deploy.md).
	r.RemoteIPHeaders = []string{"X-Forwarded-For"}
	if err := r.SetTrustedProxies(d.TrustedProxies); err != nil {
		panic("api.New: TrustedProxies: " + err.Error())
	}
	metrics := newHTTPMetrics(d.Registry)
	// compress sits inside the access log and metrics, which read the status
	// after it, and outside recovery, whose 500 it then carries like any answer.
	r.Use(requestID(d.Logger), accessLog(), metrics.handler(), compress(), recovery(), securityHeaders(d.Production))
	r.NoRoute(func(c *gin.Context) { fail(c, errs.ErrNotFound, "no such route") })
	r.NoMethod(func(c *gin.Context) {
		c.AbortWithStatusJSON(http.StatusMethodNotAllowed, errorBody{Error: errorDetail{
			Code: "method_not_allowed", Message: "this route does not accept " + c.Request.Method}})
	})

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{})))

	v1 := r.Group("/api/v1", deadline(RequestTimeout))
	v1.POST("/auth/login", s.login)
	v1.POST("/auth/refresh", s.refresh)
	v1.POST("/auth/logout", s.logout)

	all := []access.Role{access.GridWorker, access.Mediator, access.Supervisor, access.Admin}
	authed := v1.Group("", s.authenticate())
	anyone := authed.Group("", allow(all...))
	admin := authed.Group("", allow(access.Admin))
	readers := authed.Group("", allow(access.Supervisor, access.Admin))
	reporters := authed.Group("", allow(access.GridWorker, access.Mediator, access.Admin))
	// Transitions: the command centre acts; reporters may cancel their own.
	command := authed.Group("", allow(access.GridWorker, access.Mediator, access.Supervisor, access.Admin))
	keyed := s.idempotent(jsonBody)
	none := noQuery()

	anyone.GET("/me", none, s.me)

	anyone.GET("/regions", s.listRegions)
	anyone.GET("/regions/:code", none, s.getRegion)
	admin.POST("/regions/import", s.idempotent(geoJSONBody), s.importRegions)

	readers.GET("/users", s.listUsers)
	admin.POST("/users", keyed, s.createUser)
	readers.GET("/users/:id", none, s.getUser)
	admin.PATCH("/users/:id", s.patchUser)

	anyone.GET("/categories", s.listCategories)
	admin.POST("/categories", keyed, s.createCategory)
	admin.PATCH("/categories/:kind/:code", s.patchCategory)

	reporters.POST("/incidents", s.createOnce(jsonBody, s.createIncident))
	anyone.GET("/incidents", s.listIncidents)
	anyone.GET("/incidents/:id", none, s.getIncident)
	command.POST("/incidents/:id/transitions", keyed, s.transitionIncident)
	anyone.GET("/incidents/:id/timeline", none, s.incidentTimeline)

	// Disputes (SPEC §8): reported like incidents; acted on by mediators and
	// admins (the service checks the level); read by everyone in scope.
	mediators := authed.Group("", allow(access.Mediator, access.Admin))
	reporters.POST("/disputes", keyed, s.createDispute)
	anyone.GET("/disputes", s.listDisputes)
	anyone.GET("/disputes/:id", s.getDispute)
	mediators.POST("/disputes/:id/actions", keyed, s.disputeAction)
	anyone.GET("/disputes/:id/timeline", none, s.disputeTimeline)

	reporters.POST("/uploads", keyed, s.createUpload)
	reporters.POST("/uploads/:id/complete", keyed, s.completeUpload)
	reporters.POST("/photos", none, s.idempotent(photoBody), s.uploadPhoto)
	anyone.GET("/photos/:id", none, s.getPhoto)
	anyone.GET("/photos/:id/thumb", none, s.getPhotoThumb)

	reporters.POST("/sync", s.sync)
	anyone.GET("/sync/changes", s.changes)

	// Notifications (SPEC §7): each user's own inbox and live stream.
	anyone.GET("/notifications", s.listNotifications)
	anyone.POST("/notifications/:id/read", keyed, s.readNotification)
	anyone.GET("/notifications/stream", none, s.notificationStream)

	// The Ping'an index (SPEC §9): indicators (read by supervisors, changed by
	// admins) and department data entry (supervisors and admins in scope).
	readers.GET("/indicators", none, s.listIndicators)
	readers.GET("/indicators/:code", none, s.getIndicator)
	admin.POST("/indicators", keyed, s.createIndicator)
	admin.PATCH("/indicators/:code", s.patchIndicator)
	// Department data: supervisors and admins, and departments' systems with
	// a service account's key (which opens these two routes and no other).
	entry := authed.Group("", allow(access.Supervisor, access.Admin, access.Department))
	entry.POST("/indicator-values", keyed, s.enterValues)
	entry.POST("/indicator-values/import", s.idempotent(tableBody), s.importValues)
	admin.POST("/service-accounts", keyed, s.createAccount)
	admin.GET("/service-accounts", none, s.listAccounts)
	admin.POST("/service-accounts/:id/revoke", keyed, s.revokeAccount)

	analysts := authed.Group("", allow(access.Mediator, access.Supervisor, access.Admin))
	analysts.GET("/index/rankings", s.rankings)
	analysts.GET("/index/series", s.series)
	admin.POST("/index/recompute", keyed, s.recompute)
	admin.GET("/index/jobs/:id", none, s.getJob)

	// Early warning (SPEC §10.3): read and acted on in their subtree by
	// mediators, supervisors and admins (the service checks the scope); the
	// key-date calendar is read by them and kept by admins. Ack takes no
	// body or {}, close {note}; both under an optional If-Match.
	analysts.GET("/warnings", s.listWarnings)
	analysts.GET("/warnings/:id", none, s.getWarning)
	analysts.POST("/warnings/:id/ack", keyed, s.ackWarning)
	analysts.POST("/warnings/:id/close", keyed, s.closeWarning)
	analysts.GET("/key-dates", none, s.listKeyDates)
	analysts.GET("/key-dates/:id", none, s.getKeyDate)
	admin.POST("/key-dates", keyed, s.createKeyDate)
	admin.PATCH("/key-dates/:id", s.patchKeyDate)

	// Reports for supervisors (SPEC §11): figures of the caller's subtree,
	// for mediators, supervisors and admins.
	analysts.GET("/reports/summary", s.summary)

	// Exports (SPEC §11.5): a list's rows as a file, for the roles that read
	// the list (the services apply the scope rule as for the list).
	anyone.GET("/exports/incidents", s.exportIncidents)
	anyone.GET("/exports/disputes", s.exportDisputes)
	analysts.GET("/exports/rankings", s.exportRankings)
	analysts.GET("/exports/warnings", s.exportWarnings)
	analysts.GET("/exports/summary", s.exportSummary)

	// Reports (SPEC §11): read in their subtree by mediators, supervisors
	// and admins.
	analysts.GET("/reports/workload", s.workloadReport)

	// Reports (SPEC §11): mediators, supervisors and admins, in their subtree.
	analysts.GET("/reports/heatmap", s.heatmap)

	admin.GET("/audit", s.listAudit)
	return r
}
