// Package testenv gives tests the real services that scripts/test.sh
// starts: a fresh MariaDB database and a fresh MinIO bucket per test, each
// dropped again by tb.Cleanup.
//
// The services are named by environment variables:
//
//	PINGAN_TEST_MYSQL     root:secret@tcp(127.0.0.1:33306)/   (a go-sql-driver DSN)
//	PINGAN_TEST_MINIO     minio://ACCESS:SECRET@127.0.0.1:19000
//	PINGAN_TEST_SERVICES  "required" when the test command started them
//
// Without a variable the test is skipped, unless PINGAN_TEST_SERVICES is
// "required": then it fails, so that CI cannot pass by skipping. When a
// variable is set but its server cannot be reached the test always fails.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Environment variable names.
const (
	EnvMySQL    = "PINGAN_TEST_MYSQL"
	EnvMinio    = "PINGAN_TEST_MINIO"
	EnvServices = "PINGAN_TEST_SERVICES"
)

// setupTimeout bounds creating and dropping a database or bucket.
const setupTimeout = 30 * time.Second

// Services reports whether the test command set the services up
// (PINGAN_TEST_SERVICES=required), in which case tests must not skip them.
func Services() bool { return os.Getenv(EnvServices) == "required" }

// need returns the variable's value, or skips (fails when services are
// required) if it is empty.
func need(tb testing.TB, name, what string) string {
	tb.Helper()
	v := os.Getenv(name)
	if v == "" {
		if Services() {
			tb.Fatalf("testenv: %s is required (%s=required) but %s is not set", what, EnvServices, name)
		}
		tb.Skipf("testenv: %s not set; run scripts/test.sh to test against %s", name, what)
	}
	return v
}

// MySQLDSN creates a database pingan_t_<random> (utf8mb4) on the server in
// PINGAN_TEST_MYSQL, drops it when the test ends, and returns its URL in
// the PINGAN_DB form: "mysql://" + a go-sql-driver DSN with parseTime,
// loc=UTC and multiStatements set.
func MySQLDSN(tb testing.TB) string {
	tb.Helper()
	return MySQLDSNCharset(tb, "utf8mb4", "utf8mb4_unicode_ci")
}

// MySQLDSNCharset is MySQLDSN for a database created with another default
// character set and collation (such as MySQL's 3-byte "utf8" and
// "utf8_general_ci"), which its tables inherit.
func MySQLDSNCharset(tb testing.TB, charset, collation string) string {
	tb.Helper()
	cfg, err := mysql.ParseDSN(need(tb, EnvMySQL, "MariaDB"))
	if err != nil {
		tb.Fatalf("testenv: %s: %v", EnvMySQL, err)
	}
	cfg.DBName = ""
	cfg.Timeout = 5 * time.Second
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		tb.Fatalf("testenv: open MariaDB: %v", err)
	}
	name := "pingan_t_" + randomHex(tb, 8)
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+
		" CHARACTER SET "+charset+" COLLATE "+collation); err != nil {
		admin.Close()
		tb.Fatalf("testenv: MariaDB at %s: create database: %v", cfg.Addr, err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			tb.Errorf("testenv: drop database %s: %v", name, err)
		}
	})
	cfg.DBName = name
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.MultiStatements = true
	cfg.Timeout = 0
	dsn := cfg.FormatDSN()
	if !strings.Contains(dsn, "loc=") { // UTC is the driver default, so FormatDSN omits it
		dsn += "&loc=UTC"
	}
	return "mysql://" + dsn
}

// MinioURL returns a PINGAN_BLOB URL for a fresh bucket t-<random> on the
// server in PINGAN_TEST_MINIO (secure=false unless the variable says
// otherwise). The bucket is not created, so that the store's start-up path
// is exercised; when the test ends every object and the bucket are removed.
func MinioURL(tb testing.TB) string {
	tb.Helper()
	raw := need(tb, EnvMinio, "MinIO")
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "minio" || u.Host == "" || u.User == nil {
		tb.Fatalf("testenv: %s: want minio://ACCESS:SECRET@HOST:PORT", EnvMinio)
	}
	q := u.Query()
	if q.Get("secure") == "" {
		q.Set("secure", "false")
	}
	secret, _ := u.User.Password()
	client, err := minio.New(u.Host, &minio.Options{
		Creds:      credentials.NewStaticV4(u.User.Username(), secret, ""),
		Secure:     q.Get("secure") == "true",
		MaxRetries: 2,
	})
	if err != nil {
		tb.Fatalf("testenv: %s: %v", EnvMinio, err)
	}
	bucket := "t-" + randomHex(tb, 8)
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if _, err := client.ListBuckets(ctx); err != nil {
		tb.Fatalf("testenv: MinIO at %s: %v", u.Host, err)
	}
	tb.Cleanup(func() { removeBucket(tb, client, bucket) })
	u.Path = "/" + bucket
	u.RawQuery = q.Encode()
	return u.String()
}

func removeBucket(tb testing.TB, client *minio.Client, bucket string) {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if ok, err := client.BucketExists(ctx, bucket); err != nil || !ok {
		if err != nil {
			tb.Errorf("testenv: bucket %s: %v", bucket, err)
		}
		return
	}
	objects := client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true})
	for res := range client.RemoveObjects(ctx, bucket, objects, minio.RemoveObjectsOptions{}) {
		tb.Errorf("testenv: remove %s/%s: %v", bucket, res.ObjectName, res.Err)
	}
	if err := client.RemoveBucket(ctx, bucket); err != nil {
		tb.Errorf("testenv: remove bucket %s: %v", bucket, err)
	}
}

func randomHex(tb testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatalf("testenv: random name: %v", err)
	}
	return hex.EncodeToString(b)
}
