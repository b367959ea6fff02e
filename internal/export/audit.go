package export

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/deps"
)

// Kinds of export, each audited as "export.<kind>".
const (
	Incidents = "incidents"
	Disputes  = "disputes"
	Rankings  = "rankings"
	Warnings  = "warnings"
	Summary   = "summary"
)

// Service records exports in the audit log (SPEC §11.5: each export is
// audited). The rows themselves come from the domain services' scoped lists.
type Service struct {
	log audit.Log
	now func() time.Time
}

// NewService builds the service; both dependencies are required.
func NewService(log audit.Log, now func() time.Time) *Service {
	deps.Require("export.NewService", "log", log, "now", now)
	return &Service{log: log, now: now}
}

// Record is what an audit entry says of one export. Filters are the query
// parameters that chose the rows (never personal data: no list filter
// takes any, and the search by a party's phone is no export filter).
type Record struct {
	Kind    string
	Format  Format
	Filters map[string]string
	Rows    int
	// Complete is false when the export ended early (the client went away,
	// or a read failed), with Rows rows sent.
	Complete bool
	// RegionPath places the entry at the region exported; "" for the
	// caller's own scope.
	RegionPath string
}

// Audit writes the entry "export.<kind>" for p's export, in a transaction
// of its own. It is written after the rows, when their count is known.
func (s *Service) Audit(ctx context.Context, p access.Principal, r Record) error {
	details, err := json.Marshal(map[string]any{"format": r.Format, "filters": r.Filters, "rows": r.Rows,
		"complete": r.Complete})
	if err != nil {
		return fmt.Errorf("export audit: %w", err)
	}
	e := audit.New(ctx, p, s.now(), "export."+r.Kind, "export", "", string(details))
	if r.RegionPath != "" {
		e = e.In(r.RegionPath)
	}
	return s.log.InTx(ctx, func(ctx context.Context) error { return s.log.AppendAudit(ctx, e) })
}

// Disposition is the Content-Disposition of an attachment named name (e.g.
// 东营区-矛盾纠纷-2026-10-01_2026-10-31.csv): the UTF-8 name in filename*
// (RFC 6266, RFC 5987), and for old clients an ASCII fallback.
func Disposition(name, fallback string) string {
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, fallback, pathEscape(name))
}

// pathEscape percent-encodes everything but RFC 5987's attr-char (stricter
// than net/url, which keeps characters that filename* may not hold).
func pathEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			strings.IndexByte("!#$&+-.^_`|~", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// Filename is a file name from its parts joined by "-", with the format's
// extension; parts are kept to characters safe in a file name.
func Filename(f Format, parts ...string) string {
	kept := make([]string, 0, len(parts))
	for _, p := range parts {
		if p = strings.Map(safeRune, p); p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, "-") + "." + string(f)
}

// safeRune drops what a file system or a header would choke on.
func safeRune(r rune) rune {
	if r < 0x20 || r == 0x7f || strings.ContainsRune(`/\:*?"<>|;`, r) {
		return -1
	}
	return r
}
