package config

import (
	"encoding/base64"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

var (
	key32  = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	prodOK = map[string]string{
		"PINGAN_ENV":      "production",
		"PINGAN_DB":       "mysql://u:p@tcp(db:3306)/pingan",
		"PINGAN_BLOB":     "minio://AK:SK@minio:9000/pingan?secure=false",
		"PINGAN_JWT_KEYS": "k2:" + key32 + ",k1:" + key32,
		"PINGAN_DATA_KEY": key32,
	}
)

func TestDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.DataDir != "./data" || c.DB != "sqlite://data/pingan.db" || c.Blob != "file://data/blobs" ||
		c.Location.String() != "Asia/Shanghai" || c.Demo != "auto" || c.Production || !c.Embedded() || c.JWTKeys != nil || c.DataKey != nil {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestProduction(t *testing.T) {
	c, err := Load(env(prodOK))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Production || c.Demo != "off" || len(c.JWTKeys) != 2 || c.JWTKeys[0].ID != "k2" || len(c.DataKey) != 32 {
		t.Fatalf("production: %+v", c)
	}
	m, err := ParseMinio(c.Blob)
	if err != nil || m.Endpoint != "minio:9000" || m.Bucket != "pingan" || m.Secure || m.AccessKey != "AK" || m.SecretKey != "SK" {
		t.Fatalf("minio: %+v, %v", m, err)
	}
}

// TestBadSettings: each bad setting stops start-up with one line naming
// the variable, and no secret in it.
func TestBadSettings(t *testing.T) {
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range prodOK {
			m[a] = b
		}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"unknown env", map[string]string{"PINGAN_ENV": "staging"}, "PINGAN_ENV"},
		{"db scheme", map[string]string{"PINGAN_DB": "postgres://x"}, "PINGAN_DB"},
		{"blob scheme", map[string]string{"PINGAN_BLOB": "s3://x"}, "PINGAN_BLOB"},
		{"minio no bucket", map[string]string{"PINGAN_BLOB": "minio://a:b@h:9000/"}, "PINGAN_BLOB"},
		{"minio no secret", map[string]string{"PINGAN_BLOB": "minio://a@h:9000/b"}, "PINGAN_BLOB"},
		{"minio secure", map[string]string{"PINGAN_BLOB": "minio://a:b@h:9000/b?secure=maybe"}, "PINGAN_BLOB"},
		{"short jwt key", map[string]string{"PINGAN_JWT_KEYS": "k1:c2hvcnQ="}, "PINGAN_JWT_KEYS"},
		{"jwt no kid", map[string]string{"PINGAN_JWT_KEYS": key32}, "PINGAN_JWT_KEYS"},
		{"jwt dup kid", map[string]string{"PINGAN_JWT_KEYS": "a:" + key32 + ",a:" + key32}, "PINGAN_JWT_KEYS"},
		{"data key length", map[string]string{"PINGAN_DATA_KEY": "c2hvcnQ="}, "PINGAN_DATA_KEY"},
		{"tz", map[string]string{"PINGAN_TZ": "Mars/Olympus"}, "PINGAN_TZ"},
		{"demo", map[string]string{"PINGAN_DEMO": "sometimes"}, "PINGAN_DEMO"},
		{"prod generated jwt", with("PINGAN_JWT_KEYS", ""), "PINGAN_JWT_KEYS"},
		{"prod generated data key", with("PINGAN_DATA_KEY", ""), "PINGAN_DATA_KEY"},
		{"prod demo", with("PINGAN_DEMO", "on"), "PINGAN_DEMO"},
		{"prod sqlite", with("PINGAN_DB", "sqlite://x.db"), "PINGAN_DB"},
		{"prod missing db", with("PINGAN_DB", ""), "PINGAN_DB"},
		{"prod file blobs", with("PINGAN_BLOB", "file:///data/blobs"), "PINGAN_BLOB"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(env(c.vars))
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, c.want+":") || strings.Contains(msg, "\n") {
				t.Fatalf("error %q should be one line starting with %s:", msg, c.want)
			}
			if strings.Contains(msg, key32) || strings.Contains(msg, "c2hvcnQ=") {
				t.Fatalf("error leaks a secret: %q", msg)
			}
		})
	}
}

func TestKeysRoundTrip(t *testing.T) {
	keys, err := ParseKeys("new:" + key32 + ", old:" + strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].ID != "new" || keys[1].ID != "old" || len(keys[1].Secret) != 32 {
		t.Fatalf("keys: %+v", keys)
	}
	again, err := ParseKeys(FormatKeys(keys))
	if err != nil || string(again[1].Secret) != string(keys[1].Secret) {
		t.Fatalf("round trip: %v", err)
	}
}

func TestWebhookSettings(t *testing.T) {
	const secret = "a-webhook-secret-of-some-length"
	c, err := Load(env(map[string]string{"PINGAN_WEBHOOK_URL": "https://push.example.com/hook?tenant=7", "PINGAN_WEBHOOK_SECRET": secret}))
	if err != nil {
		t.Fatal(err)
	}
	if c.WebhookURL != "https://push.example.com/hook?tenant=7" || string(c.WebhookSecret) != secret {
		t.Fatalf("webhook: %q %q", c.WebhookURL, c.WebhookSecret)
	}
	if c, err := Load(env(nil)); err != nil || c.WebhookURL != "" || c.WebhookSecret != nil {
		t.Fatalf("no webhook by default: %+v %v", c, err)
	}
	bad := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"no secret", map[string]string{"PINGAN_WEBHOOK_URL": "https://push.example.com/hook"}, "PINGAN_WEBHOOK_SECRET"},
		{"short secret", map[string]string{"PINGAN_WEBHOOK_URL": "https://push.example.com/hook", "PINGAN_WEBHOOK_SECRET": "short"}, "PINGAN_WEBHOOK_SECRET"},
		{"secret alone", map[string]string{"PINGAN_WEBHOOK_SECRET": secret}, "PINGAN_WEBHOOK_SECRET"},
		{"ftp", map[string]string{"PINGAN_WEBHOOK_URL": "ftp://push.example.com/", "PINGAN_WEBHOOK_SECRET": secret}, "PINGAN_WEBHOOK_URL"},
		{"no host", map[string]string{"PINGAN_WEBHOOK_URL": "https:///hook", "PINGAN_WEBHOOK_SECRET": secret}, "PINGAN_WEBHOOK_URL"},
		{"not a URL", map[string]string{"PINGAN_WEBHOOK_URL": "push.example.com", "PINGAN_WEBHOOK_SECRET": secret}, "PINGAN_WEBHOOK_URL"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			_, err := Load(env(b.vars))
			if err == nil {
				t.Fatal("accepted")
			}
			if msg := err.Error(); !strings.HasPrefix(msg, b.want+":") || strings.Contains(msg, secret) || strings.Contains(msg, "short\"") {
				t.Fatalf("error %q should start with %s: and hold no secret", msg, b.want)
			}
		})
	}
}

// TestDisputeDeadlinesAreText: configuration knows no dispute types; it
// keeps PINGAN_DISPUTE_DEADLINES as given and app.Open parses it (its bad
// values are tested there).
func TestDisputeDeadlinesAreText(t *testing.T) {
	const v = "accept.high=1h,resolve.county=45d"
	c, err := Load(env(map[string]string{"PINGAN_DISPUTE_DEADLINES": v}))
	if err != nil || c.DisputeDeadlines != v {
		t.Fatalf("kept %q, %v", c.DisputeDeadlines, err)
	}
}
