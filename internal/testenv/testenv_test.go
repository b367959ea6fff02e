package testenv

import (
	"context"
	"database/sql"
	"runtime"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
)

func TestMySQLDSN(t *testing.T) {
	var name string
	t.Run("fresh database", func(t *testing.T) {
		raw := MySQLDSN(t)
		dsn, ok := strings.CutPrefix(raw, "mysql://")
		if !ok || !strings.Contains(dsn, "parseTime=true") || !strings.Contains(dsn, "multiStatements=true") || !strings.Contains(dsn, "loc=UTC") {
			t.Fatalf("MySQLDSN = %q", raw)
		}
		db, err := sql.Open("mysql", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var charset, collation string
		if err := db.QueryRow("SELECT DATABASE(), @@character_set_database, @@collation_database").Scan(&name, &charset, &collation); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(name, "pingan_t_") || charset != "utf8mb4" || collation != "utf8mb4_unicode_ci" {
			t.Errorf("database %s %s %s", name, charset, collation)
		}
		// multiStatements and parseTime work.
		if _, err := db.Exec("CREATE TABLE t (at DATETIME(3)); INSERT INTO t VALUES ('2026-01-02 03:04:05.678')"); err != nil {
			t.Fatal(err)
		}
		var at time.Time
		if err := db.QueryRow("SELECT at FROM t").Scan(&at); err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC); !at.Equal(want) || at.Location() != time.UTC {
			t.Errorf("at = %v, want %v", at, want)
		}
	})
	if name == "" {
		return // skipped: no server
	}
	// The cleanup of the subtest dropped the database.
	admin, err := sql.Open("mysql", strings.TrimPrefix(MySQLDSN(t), "mysql://"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var n int
	err = admin.QueryRowContext(context.Background(),
		"SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", name).Scan(&n)
	if err != nil || n != 0 {
		t.Errorf("database %s still exists after cleanup (count %d, err %v)", name, n, err)
	}
}

// recorder is a testing.TB that notes Skip and Fatal instead of acting on them.
type recorder struct {
	testing.TB
	skipped, failed bool
}

func (r *recorder) Helper()                   {}
func (r *recorder) Skipf(string, ...any)      { r.skipped = true; runtime.Goexit() }
func (r *recorder) Fatalf(string, ...any)     { r.failed = true; runtime.Goexit() }
func (r *recorder) Cleanup(func())            {}
func (r *recorder) Errorf(f string, a ...any) { r.failed = true }

func run(fn func(tb testing.TB)) *recorder {
	r := &recorder{}
	done := make(chan struct{})
	go func() { defer close(done); fn(r) }()
	<-done
	return r
}

func TestMissingServices(t *testing.T) {
	cases := []struct {
		services   string
		skip, fail bool
	}{
		{"", true, false},
		{"required", false, true},
	}
	for _, c := range cases {
		t.Setenv(EnvServices, c.services)
		t.Setenv(EnvMySQL, "")
		t.Setenv(EnvMinio, "")
		for name, fn := range map[string]func(testing.TB){
			"MySQLDSN": func(tb testing.TB) { MySQLDSN(tb) },
			"MinioURL": func(tb testing.TB) { MinioURL(tb) },
		} {
			if r := run(fn); r.skipped != c.skip || r.failed != c.fail {
				t.Errorf("%s with %s=%q: skipped %v failed %v, want %v %v", name, EnvServices, c.services, r.skipped, r.failed, c.skip, c.fail)
			}
		}
	}
	// A set variable whose server is down fails rather than skips.
	t.Setenv(EnvServices, "")
	t.Setenv(EnvMySQL, "root:x@tcp(127.0.0.1:1)/")
	t.Setenv(EnvMinio, "minio://a:bbbbbbbb@127.0.0.1:1")
	for name, fn := range map[string]func(testing.TB){
		"MySQLDSN": func(tb testing.TB) { MySQLDSN(tb) },
		"MinioURL": func(tb testing.TB) { MinioURL(tb) },
	} {
		if r := run(fn); r.skipped || !r.failed {
			t.Errorf("%s with an unreachable server: skipped %v failed %v, want a failure", name, r.skipped, r.failed)
		}
	}
}
