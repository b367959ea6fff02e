// Package store implements every domain Store with GORM on SQLite (the
// embedded default) and MySQL/MariaDB. Row structs are unexported; driver
// errors are translated to the kinds of internal/errs here and nowhere else.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing/fstest"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/go-sql-driver/mysql"
	"github.com/pressly/goose/v3"
	gormmysql "gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"

	"pingan/internal/category"
	"pingan/internal/dispute"
	"pingan/internal/errs"
	"pingan/internal/pii"
	"pingan/internal/region"
	"pingan/internal/txn"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the database handle shared by every store method.
type DB struct {
	gorm    *gorm.DB
	sql     *sql.DB
	dialect string // "sqlite" or "mysql"
	sealer  *pii.Sealer
	// seq is a small pool of its own for sequence counters (MySQL only).
	seq *gorm.DB
	// regions and categories cache rows the hot paths look up.
	regions    *cache[region.Region]
	categories *cache[category.Category]
	// blocks hands out case numbers from ranges reserved in the database.
	blocks *caseBlocks
	// group writes new reports together (group.go).
	group *committers
	// batch is the group committers' own pool (MySQL only): its connections
	// accept several statements in one query, so that a group's whole
	// transaction is one round trip. Nothing else uses it.
	batch *sql.DB
	// deadlines are what the fact migration replays older timelines with
	// (SetDeadlines).
	deadlines dispute.Deadlines
}

// Open connects to rawURL (sqlite://PATH or mysql://DSN). The sealer encrypts
// personal data columns. Returns an error wrapping errs.ErrUnavailable when
// the database cannot be reached.
func Open(ctx context.Context, rawURL string, sealer *pii.Sealer) (*DB, error) {
	scheme, rest, _ := strings.Cut(rawURL, "://")
	cfg := &gorm.Config{
		TranslateError:         true,
		SkipDefaultTransaction: true,
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
	var (
		g           *gorm.DB
		err         error
		mysqlConfig *mysql.Config
	)
	switch scheme {
	case "sqlite":
		if dir := filepath.Dir(rest); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("create database directory: %w", err)
			}
		}
		// WAL with synchronous=FULL: a COMMIT is on disk before a 201 is sent.
		dsn := rest + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=cache_size(-16384)&_time_format=sqlite"
		g, err = gorm.Open(sqlite.Open(dsn), cfg)
	case "mysql":
		var mc *mysql.Config
		mc, err = mysql.ParseDSN(rest)
		if err != nil {
			return nil, fmt.Errorf("PINGAN_DB: %v", err)
		}
		mc.ParseTime = true
		mc.Loc = time.UTC
		// A stalled server must end in an error (503), never a hang.
		if mc.Timeout == 0 {
			mc.Timeout = 5 * time.Second
		}
		if mc.ReadTimeout == 0 {
			mc.ReadTimeout = 15 * time.Second
		}
		if mc.WriteTimeout == 0 {
			mc.WriteTimeout = 15 * time.Second
		}
		mc.Logger = driverLogger{}
		mc.InterpolateParams = true
		// Several statements in one query only on the committers' own pool
		// (below), whatever the DSN says.
		mc.MultiStatements = false
		if mc.Params == nil {
			mc.Params = map[string]string{}
		}
		mc.Params["time_zone"] = "'+00:00'"
		mc.Params["charset"] = "utf8mb4"
		mysqlConfig = mc
		g, err = gorm.Open(gormmysql.New(gormmysql.Config{DSNConfig: mc}), cfg)
	default:
		return nil, fmt.Errorf("PINGAN_DB: unknown scheme %q", scheme)
	}
	if err != nil {
		return nil, fmt.Errorf("open database: %v: %w", err, errs.ErrUnavailable)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, err
	}
	if scheme == "sqlite" {
		// One writer at a time is SQLite's model; one connection avoids
		// SQLITE_BUSY on lock upgrades and is plenty for a small site.
		sqlDB.SetMaxOpenConns(1)
	} else {
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(32)
		// Below MySQL's default wait_timeout (8 h) and any proxy idle cut.
		sqlDB.SetConnMaxLifetime(5 * time.Minute)
		sqlDB.SetConnMaxIdleTime(time.Minute)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("reach database: %v: %w", err, errs.ErrUnavailable)
	}
	db := &DB{gorm: g, sql: sqlDB, dialect: scheme, sealer: sealer,
		regions: newCache[region.Region](), categories: newCache[category.Category](), blocks: newCaseBlocks(),
		group: newCommitters(), deadlines: dispute.DefaultDeadlines()}
	if scheme == "mysql" {
		if db.seq, err = gorm.Open(gormmysql.New(gormmysql.Config{DSNConfig: mysqlConfig}), cfg); err != nil {
			sqlDB.Close()
			return nil, fmt.Errorf("open database: %v: %w", err, errs.ErrUnavailable)
		}
		seqDB, _ := db.seq.DB()
		seqDB.SetMaxOpenConns(4)
		seqDB.SetMaxIdleConns(4)
		seqDB.SetConnMaxLifetime(5 * time.Minute)

		// Through the DSN text, as GORM opens its pool, so that charset
		// is read as the connection's character set.
		bc, err := mysql.ParseDSN(mysqlConfig.FormatDSN())
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("open database: %v: %w", err, errs.ErrUnavailable)
		}
		bc.Logger = mysqlConfig.Logger
		bc.MultiStatements = true
		// A batch waiting on a row lock gives up before the client's read
		// timeout (15 s by default), so that the server does not go on to
		// commit a batch the client has stopped waiting for.
		lockWait := 10 * time.Second
		if rt := bc.ReadTimeout; rt > 0 && rt-time.Second < lockWait {
			lockWait = max(time.Second, rt-time.Second)
		}
		if bc.Params == nil {
			bc.Params = map[string]string{}
		}
		bc.Params["innodb_lock_wait_timeout"] = strconv.Itoa(int(lockWait / time.Second))
		connector, err := mysql.NewConnector(bc)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("open database: %v: %w", err, errs.ErrUnavailable)
		}
		db.batch = sql.OpenDB(connector)
		db.batch.SetMaxOpenConns(groupCommitters)
		db.batch.SetMaxIdleConns(groupCommitters)
		db.batch.SetConnMaxLifetime(5 * time.Minute)
		db.batch.SetConnMaxIdleTime(time.Minute)
	}
	return db, nil
}

// Close stops the group committers and releases the connections.
func (db *DB) Close() error {
	db.closeGroups()
	if db.seq != nil {
		if s, err := db.seq.DB(); err == nil {
			s.Close()
		}
	}
	if db.batch != nil {
		db.batch.Close()
	}
	return db.sql.Close()
}

// SQL exposes the pool for metrics collectors.
func (db *DB) SQL() *sql.DB { return db.sql }

// Dialect is "sqlite" or "mysql".
func (db *DB) Dialect() string { return db.dialect }

// Ping reports whether the database answers. Returns an error wrapping
// errs.ErrUnavailable when it does not.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := db.sql.PingContext(ctx); err != nil {
		return fmt.Errorf("database: %v: %w", err, errs.ErrUnavailable)
	}
	return nil
}

// Migrate applies every pending migration, each in its own transaction, and
// records them in goose's version table. Then it refuses a MySQL schema
// that is not utf8mb4 throughout (checkCharsets).
func (db *DB) Migrate(ctx context.Context) error {
	p, err := db.migrations()
	if err != nil {
		return err
	}
	if db.dialect == "mysql" {
		// Instances starting together must not race through the DDL, which
		// MySQL does not run in transactions: one migrates, the others wait.
		conn, err := db.sql.Conn(ctx)
		if err != nil {
			return translate(err)
		}
		defer conn.Close()
		var got sql.NullInt64
		if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK('pingan_migrate', 120)").Scan(&got); err != nil || got.Int64 != 1 {
			return fmt.Errorf("migrate: could not take the migration lock: %v", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT RELEASE_LOCK('pingan_migrate')")
	}
	res, err := p.Up(ctx)
	if applied(res, err)[geohashVersion] {
		if ferr := db.afterGeohashColumn(ctx, p); ferr != nil && err == nil {
			err = ferr
		}
	}
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return db.checkCharsets(ctx)
}

// migrations is the goose provider of the embedded migrations for the
// database's dialect.
func (db *DB) migrations() (*goose.Provider, error) {
	dialect := goose.DialectSQLite3
	if db.dialect == "mysql" {
		dialect = goose.DialectMySQL
	}
	sub, err := migrationFS(db.dialect)
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(dialect, db.sql, sub, goose.WithGoMigrations(db.factFill(), db.utf8mb4()))
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

// dropIndexOn is MySQL's DROP INDEX, which names the table.
var dropIndexOn = regexp.MustCompile(`DROP INDEX (\w+) ON \w+;`)

// driverLogger sends the MySQL driver's own messages to the structured log.
type driverLogger struct{}

func (driverLogger) Print(v ...any) { slog.Warn("mysql driver", slog.String("msg", fmt.Sprint(v...))) }

// migrationFS is the embedded migrations as the dialect reads them. The SQL
// is written once, for MySQL; SQLite gets DATETIME for DATETIME(6), since
// its driver parses times only from columns declared exactly DATETIME, and
// "DROP INDEX name;" for MySQL's "DROP INDEX name ON table;".
func migrationFS(dialect string) (fs.FS, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil || dialect != "sqlite" {
		return sub, err
	}
	out := fstest.MapFS{}
	err = fs.WalkDir(sub, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, path)
		if err != nil {
			return err
		}
		sql := strings.ReplaceAll(string(b), "DATETIME(6)", "DATETIME")
		out[path] = &fstest.MapFile{Data: []byte(dropIndexOn.ReplaceAllString(sql, "DROP INDEX $1;"))}
		return nil
	})
	return out, err
}

type txKey struct{}

// InTx runs fn in one transaction: every store call made with the context fn
// receives joins it, so a service can make several writes (a change, its
// timeline event, its audit entry, an idempotency record) atomically. A
// call already inside a transaction joins it.
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return fn(ctx)
	}
	var after []func()
	err := translate(db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(context.WithValue(context.WithValue(ctx, txKey{}, tx), afterCommitKey{}, &after))
	}))
	if err == nil {
		for _, f := range after {
			f()
		}
	}
	return err
}

type afterCommitKey struct{}

// AfterCommit runs fn once the transaction of ctx (opened by InTx) has
// committed, and never if it rolls back; outside a transaction it runs fn
// at once. It is for telling others about data they can now read, such
// as waking the streams of a notification's user.
func (db *DB) AfterCommit(ctx context.Context, fn func()) {
	if after, ok := ctx.Value(afterCommitKey{}).(*[]func()); ok {
		*after = append(*after, fn)
		return
	}
	fn()
}

var _ txn.Transactor = (*DB)(nil)

// conn is the handle for one statement: the context's transaction if there
// is one, the pool otherwise.
func (db *DB) conn(ctx context.Context) *gorm.DB {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx.WithContext(ctx)
	}
	return db.gorm.WithContext(ctx)
}

// forUpdate makes a read inside a transaction lock its rows until commit
// (MySQL). SQLite needs no lock: its one writer serialises transactions.
func (db *DB) forUpdate(q *gorm.DB) *gorm.DB {
	if db.dialect == "mysql" {
		return q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return q
}

// tx runs fn in one transaction, or inside the context's: no savepoint,
// since a failure there fails the whole outer transaction anyway, and a
// savepoint costs two more round trips on a hot path.
func (db *DB) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return translate(fn(tx.WithContext(ctx)))
	}
	return translate(db.gorm.WithContext(ctx).Transaction(fn))
}

// translate maps driver errors to the kinds of internal/errs.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("%v: %w", err, errs.ErrNotFound)
	case errors.Is(err, gorm.ErrDuplicatedKey), isDuplicate(err), strings.Contains(err.Error(), "UNIQUE constraint failed"):
		// The driver's text names tables and indexes; the client reads this.
		return fmt.Errorf("already exists: %w", errs.ErrConflict)
	case isUnavailable(err):
		return fmt.Errorf("%v: %w", err, errs.ErrUnavailable)
	}
	return err
}

func isUnavailable(err error) bool {
	if errors.Is(err, errs.ErrUnavailable) || errors.Is(err, mysql.ErrInvalidConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"database is closed", "connection refused", "broken pipe", "bad connection", "i/o timeout", "connection reset", "no such host"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// utc normalises times before they are written, so that SQLite's text
// timestamps sort correctly and MySQL's DATETIME holds UTC.
func utc(t time.Time) time.Time { return t.UTC().Round(time.Microsecond) }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := utc(*t)
	return &v
}
