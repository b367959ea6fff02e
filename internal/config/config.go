// Package config loads the one Config of the process from the environment
// (SPEC §3.2). It is read once in main and passed down; nothing else reads
// the environment.
package config

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config is everything the server needs to start.
type Config struct {
	Addr    string
	DataDir string
	// DB is the database URL: sqlite://PATH or mysql://DSN.
	DB string
	// Blob is the blob store URL: file://DIR or minio://ACCESS:SECRET@HOST:PORT/BUCKET?secure=false.
	Blob string
	// JWTKeys verify access tokens; JWTKeys[0] signs. Empty means "generate in the data dir".
	JWTKeys []Key
	// DataKey encrypts personal data at rest (32 bytes). Nil means "generate in the data dir".
	DataKey  []byte
	Location *time.Location
	// DisputeDeadlines is PINGAN_DISPUTE_DEADLINES as given: overrides of
	// the dispute time limits (SPEC §8.3). The dispute package owns their
	// syntax; app.Open parses it before it opens anything.
	DisputeDeadlines string
	// Demo is "auto" (load on an empty embedded database), "on" or "off".
	Demo       string
	Production bool
	// WebhookURL receives every notification, signed with WebhookSecret
	// (SPEC §7); empty turns the webhook off.
	WebhookURL    string
	WebhookSecret []byte
	// TrustedProxies are the addresses and CIDRs of the reverse proxies
	// whose X-Forwarded-For names the client (PINGAN_TRUSTED_PROXIES);
	// none by default.
	TrustedProxies []string
	// CityBBox is PINGAN_CITY_BBOX, where a case may lie (SPEC §6); nil
	// means "the city's imported boundary".
	CityBBox *BBox
	// GridRadiusKM is PINGAN_GRID_RADIUS_KM, how far from its grid a case
	// may lie (SPEC §6).
	GridRadiusKM float64
	// WarningOverdueCount is PINGAN_WARNING_OVERDUE_COUNT: breached dispute
	// deadlines in a day at which a county or township is warned (SPEC §10.2).
	WarningOverdueCount int
	// HeatmapMinCount is PINGAN_HEATMAP_MIN_COUNT: the fewest cases a
	// heat-map cell shows on its own (SPEC §11.2).
	HeatmapMinCount int
}

// BBox is a longitude/latitude bounding box.
type BBox struct {
	MinLng, MinLat, MaxLng, MaxLat float64
}

// Key is a named secret (the name is the JWT kid).
type Key struct {
	ID     string
	Secret []byte
}

// Embedded reports whether the database is the embedded SQLite default.
func (c *Config) Embedded() bool { return strings.HasPrefix(c.DB, "sqlite://") }

// Load reads the environment through getenv (os.Getenv in main). The error
// is one line naming the variable at fault.
func Load(getenv func(string) string) (*Config, error) {
	c := &Config{
		Addr:    or(getenv("PINGAN_ADDR"), ":8080"),
		DataDir: or(getenv("PINGAN_DATA_DIR"), "./data"),
	}
	c.DB = or(getenv("PINGAN_DB"), "sqlite://"+filepath.Join(c.DataDir, "pingan.db"))
	c.Blob = or(getenv("PINGAN_BLOB"), "file://"+filepath.Join(c.DataDir, "blobs"))

	switch env := or(getenv("PINGAN_ENV"), "development"); env {
	case "development":
	case "production":
		c.Production = true
	default:
		return nil, fmt.Errorf("PINGAN_ENV: %q is not development or production", env)
	}
	if _, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
		return nil, fmt.Errorf("PINGAN_ADDR: %q is not host:port (e.g. :8080)", c.Addr)
	}
	if err := checkURL("PINGAN_DB", c.DB, "sqlite", "mysql"); err != nil {
		return nil, err
	}
	if err := checkURL("PINGAN_BLOB", c.Blob, "file", "minio"); err != nil {
		return nil, err
	}
	if strings.HasPrefix(c.Blob, "minio://") {
		if _, err := ParseMinio(c.Blob); err != nil {
			return nil, err
		}
	}
	if v := getenv("PINGAN_JWT_KEYS"); v != "" {
		keys, err := ParseKeys(v)
		if err != nil {
			return nil, fmt.Errorf("PINGAN_JWT_KEYS: %w", err)
		}
		c.JWTKeys = keys
	}
	if v := getenv("PINGAN_DATA_KEY"); v != "" {
		k, err := decodeSecret(v)
		if err != nil || len(k) != 32 {
			return nil, fmt.Errorf("PINGAN_DATA_KEY: must be 32 bytes, base64 or hex encoded")
		}
		c.DataKey = k
	}
	tz := or(getenv("PINGAN_TZ"), "Asia/Shanghai")
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("PINGAN_TZ: unknown time zone %q", tz)
	}
	c.Location = loc
	c.DisputeDeadlines = getenv("PINGAN_DISPUTE_DEADLINES")
	switch d := strings.ToLower(getenv("PINGAN_DEMO")); d {
	case "", "auto":
		c.Demo = "auto"
	case "on", "1", "true", "yes":
		c.Demo = "on"
	case "off", "0", "false", "no":
		c.Demo = "off"
	default:
		return nil, fmt.Errorf("PINGAN_DEMO: %q is not on, off or auto", d)
	}
	if err := c.loadWebhook(getenv); err != nil {
		return nil, err
	}
	proxies, err := ParseTrustedProxies(getenv("PINGAN_TRUSTED_PROXIES"))
	if err != nil {
		return nil, fmt.Errorf("PINGAN_TRUSTED_PROXIES: %w", err)
	}
	c.TrustedProxies = proxies
	if err := c.loadPlaces(getenv); err != nil {
		return nil, err
	}
	c.WarningOverdueCount = DefaultWarningOverdueCount
	if v := strings.TrimSpace(getenv("PINGAN_WARNING_OVERDUE_COUNT")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100000 || v != strconv.Itoa(n) {
			return nil, fmt.Errorf("PINGAN_WARNING_OVERDUE_COUNT: %q is not a whole number from 1 to 100000 (e.g. 5)", v)
		}
		c.WarningOverdueCount = n
	}
	if err := c.loadHeatmap(getenv); err != nil {
		return nil, err
	}
	if c.Production {
		switch {
		case len(c.JWTKeys) == 0:
			return nil, fmt.Errorf("PINGAN_JWT_KEYS: required in production (generated keys are refused)")
		case c.DataKey == nil:
			return nil, fmt.Errorf("PINGAN_DATA_KEY: required in production (generated keys are refused)")
		case c.Demo == "on":
			return nil, fmt.Errorf("PINGAN_DEMO: the demo data set is refused in production")
		case !strings.HasPrefix(c.DB, "mysql://"):
			return nil, fmt.Errorf("PINGAN_DB: production needs MySQL/MariaDB (mysql://…)")
		case !strings.HasPrefix(c.Blob, "minio://"):
			return nil, fmt.Errorf("PINGAN_BLOB: production needs MinIO (minio://…)")
		}
		c.Demo = "off"
	}
	return c, nil
}

// MinWebhookSecret is the shortest PINGAN_WEBHOOK_SECRET accepted.
const MinWebhookSecret = 16

// loadWebhook reads PINGAN_WEBHOOK_URL (http or https, with a host) and
// PINGAN_WEBHOOK_SECRET, which must come with it. The secret never appears
// in an error.
func (c *Config) loadWebhook(getenv func(string) string) error {
	raw, secret := getenv("PINGAN_WEBHOOK_URL"), getenv("PINGAN_WEBHOOK_SECRET")
	if raw == "" {
		if secret != "" {
			return fmt.Errorf("PINGAN_WEBHOOK_SECRET: set without PINGAN_WEBHOOK_URL")
		}
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" {
		return fmt.Errorf("PINGAN_WEBHOOK_URL: want an http:// or https:// URL with a host")
	}
	if len(secret) < MinWebhookSecret {
		return fmt.Errorf("PINGAN_WEBHOOK_SECRET: required with PINGAN_WEBHOOK_URL, at least %d characters", MinWebhookSecret)
	}
	c.WebhookURL, c.WebhookSecret = raw, []byte(secret)
	return nil
}

// ParseTrustedProxies reads a comma-separated list of IP addresses and
// CIDRs ("10.0.0.0/8, 192.168.1.5, fd00::/8") into their canonical forms;
// "" is none. A prefix of length 0 is refused: it would trust every client
// to name its own address.
func ParseTrustedProxies(v string) ([]string, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	var out []string
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if strings.Contains(part, "/") {
			p, err := netip.ParsePrefix(part)
			if err != nil {
				return nil, fmt.Errorf("%q is not an IP address or CIDR (e.g. 10.0.0.0/8, 192.168.1.5)", part)
			}
			if p.Bits() == 0 {
				return nil, fmt.Errorf("%q would trust every client to name its own address", part)
			}
			out = append(out, p.Masked().String())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("%q is not an IP address or CIDR (e.g. 10.0.0.0/8, 192.168.1.5)", part)
		}
		out = append(out, a.Unmap().String())
	}
	return out, nil
}

// DefaultWarningOverdueCount is PINGAN_WARNING_OVERDUE_COUNT when it is not set.
const DefaultWarningOverdueCount = 5

// DefaultGridRadiusKM is PINGAN_GRID_RADIUS_KM when it is not set.
const DefaultGridRadiusKM = 5

// MaxGridRadiusKM bounds PINGAN_GRID_RADIUS_KM: farther than this, the
// check would say nothing.
const MaxGridRadiusKM = 1000

// plainNumber is a decimal number as people write one: no exponent, hex,
// underscores, Inf or NaN.
var plainNumber = regexp.MustCompile(`^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$`)

// loadPlaces reads PINGAN_CITY_BBOX ("minLng,minLat,maxLng,maxLat") and
// PINGAN_GRID_RADIUS_KM (kilometres, above 0).
func (c *Config) loadPlaces(getenv func(string) string) error {
	c.GridRadiusKM = DefaultGridRadiusKM
	if v := strings.TrimSpace(getenv("PINGAN_GRID_RADIUS_KM")); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if !plainNumber.MatchString(v) || err != nil || r <= 0 || r > MaxGridRadiusKM {
			return fmt.Errorf("PINGAN_GRID_RADIUS_KM: %q is not a number of kilometres above 0 and at most %d (e.g. 5)", v, MaxGridRadiusKM)
		}
		c.GridRadiusKM = r
	}
	v := strings.TrimSpace(getenv("PINGAN_CITY_BBOX"))
	if v == "" {
		return nil
	}
	const form = "want minLng,minLat,maxLng,maxLat in degrees, longitude first (e.g. 118.07,36.92,119.17,38.17)"
	parts := strings.Split(v, ",")
	if len(parts) != 4 {
		return fmt.Errorf("PINGAN_CITY_BBOX: %q: %s", v, form)
	}
	var n [4]float64
	for i, part := range parts {
		part = strings.TrimSpace(part)
		f, err := strconv.ParseFloat(part, 64)
		if !plainNumber.MatchString(part) || err != nil {
			return fmt.Errorf("PINGAN_CITY_BBOX: %q is not a number; %s", part, form)
		}
		n[i] = f
	}
	b := BBox{MinLng: n[0], MinLat: n[1], MaxLng: n[2], MaxLat: n[3]}
	switch {
	case b.MinLng < -180 || b.MaxLng > 180 || b.MinLat < -90 || b.MaxLat > 90:
		return fmt.Errorf("PINGAN_CITY_BBOX: %q lies outside longitude ±180 or latitude ±90; %s", v, form)
	case b.MinLng >= b.MaxLng || b.MinLat >= b.MaxLat:
		return fmt.Errorf("PINGAN_CITY_BBOX: %q: the minimum must be below the maximum; %s", v, form)
	}
	c.CityBBox = &b
	return nil
}

// ParseKeys reads "kid:secret[,kid:secret…]"; each secret is base64 or hex
// and at least 32 bytes. The first key signs.
func ParseKeys(v string) ([]Key, error) {
	var keys []Key
	seen := map[string]bool{}
	for _, part := range strings.Split(v, ",") {
		id, secret, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok || id == "" || secret == "" {
			return nil, fmt.Errorf("want kid:secret[,kid:secret…]")
		}
		if seen[id] {
			return nil, fmt.Errorf("kid %q appears twice", id)
		}
		seen[id] = true
		b, err := decodeSecret(secret)
		if err != nil || len(b) < 32 {
			return nil, fmt.Errorf("secret of kid %q must be at least 32 bytes, base64 or hex encoded", id)
		}
		keys = append(keys, Key{ID: id, Secret: b})
	}
	return keys, nil
}

// FormatKeys is the inverse of ParseKeys.
func FormatKeys(keys []Key) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k.ID + ":" + base64.StdEncoding.EncodeToString(k.Secret)
	}
	return strings.Join(parts, ",")
}

// Minio is a parsed minio:// URL.
type Minio struct {
	Endpoint, AccessKey, SecretKey, Bucket string
	Secure                                 bool
}

// ParseMinio reads minio://ACCESS:SECRET@HOST:PORT/BUCKET?secure=false.
func ParseMinio(v string) (Minio, error) {
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "minio" || u.Host == "" || u.User == nil {
		return Minio{}, fmt.Errorf("PINGAN_BLOB: want minio://ACCESS:SECRET@HOST:PORT/BUCKET?secure=false")
	}
	secret, _ := u.User.Password()
	m := Minio{Endpoint: u.Host, AccessKey: u.User.Username(), SecretKey: secret, Bucket: strings.Trim(u.Path, "/")}
	if m.AccessKey == "" || m.SecretKey == "" {
		return Minio{}, fmt.Errorf("PINGAN_BLOB: access key and secret are required")
	}
	if m.Bucket == "" || strings.Contains(m.Bucket, "/") {
		return Minio{}, fmt.Errorf("PINGAN_BLOB: one bucket name is required as the path")
	}
	switch s := u.Query().Get("secure"); s {
	case "", "true":
		m.Secure = true
	case "false":
	default:
		return Minio{}, fmt.Errorf("PINGAN_BLOB: secure must be true or false")
	}
	return m, nil
}

func checkURL(name, v string, schemes ...string) error {
	scheme, rest, ok := strings.Cut(v, "://")
	if ok && rest != "" {
		for _, s := range schemes {
			if scheme == s {
				return nil
			}
		}
	}
	return fmt.Errorf("%s: want %s://…", name, strings.Join(schemes, ":// or "))
}

func decodeSecret(s string) ([]byte, error) {
	if b, err := hex.DecodeString(s); err == nil && len(s) >= 64 {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawURLEncoding.DecodeString(s)
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
