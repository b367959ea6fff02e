package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/pressly/goose/v3"
)

// charsetVersion is the migration that makes every table utf8mb4.
const charsetVersion = 12

// fallbackCollation is the collation tables are converted to when neither
// the database nor any table already has a utf8mb4 one.
const fallbackCollation = "utf8mb4_unicode_ci"

// versionTable is goose's own table: it holds no text and is left alone.
const versionTable = "goose_db_version"

// utf8mb4 is migration 12, in Go. MySQL's and MariaDB's "utf8" holds at
// most 3 bytes a character, so a description with 😡 or a name with 𠮷
// fails to insert (error 1366) where the tables inherited it from a
// database created with it. On MySQL the migration sets the database's
// default to utf8mb4, so that tables created later inherit that, and
// converts each table that holds anything else — only those, since a
// conversion copies the whole table — to one collation: that of the tables
// already in utf8mb4, else the database's if it is utf8mb4, else
// utf8mb4_unicode_ci (one collation, because MySQL refuses to compare
// columns of two). SQLite stores UTF-8 whatever the text: nothing to do.
// It cannot be undone: converting back would lose characters.
func (db *DB) utf8mb4() *goose.Migration {
	// In a transaction, like the SQL migrations: MySQL commits each ALTER
	// on its own anyway, and goose gives a migration without one the pool
	// while it holds a connection, which SQLite's single connection cannot
	// serve.
	return goose.NewGoMigration(charsetVersion, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		if db.dialect != "mysql" {
			return nil
		}
		if err := convertUTF8MB4(ctx, tx); err != nil {
			return fmt.Errorf("convert to utf8mb4: %w", err)
		}
		return nil
	}}, nil)
}

// schemaCharsets is what the schema holds: each table's collation, the
// tables with a text column in another character set (and the first such
// column and its set), and the database's default collation.
type schemaCharsets struct {
	database string
	tables   map[string]string    // table → collation
	columns  map[string][2]string // table → {column, character set} not utf8mb4
}

// querier is a pool or a transaction.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func readCharsets(ctx context.Context, conn querier) (schemaCharsets, error) {
	s := schemaCharsets{tables: map[string]string{}, columns: map[string][2]string{}}
	// Not @@collation_database: a session keeps the value it read when it
	// chose its database, however the database changed since.
	if err := conn.QueryRowContext(ctx, `SELECT DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA
		WHERE SCHEMA_NAME = DATABASE()`).Scan(&s.database); err != nil {
		return s, err
	}
	rows, err := conn.QueryContext(ctx, `SELECT TABLE_NAME, COALESCE(TABLE_COLLATION, '') FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'`)
	if err != nil {
		return s, err
	}
	defer rows.Close()
	for rows.Next() {
		var name, collation string
		if err := rows.Scan(&name, &collation); err != nil {
			return s, err
		}
		if name != versionTable {
			s.tables[name] = collation
		}
	}
	if err := rows.Err(); err != nil {
		return s, err
	}
	cols, err := conn.QueryContext(ctx, `SELECT TABLE_NAME, COLUMN_NAME, CHARACTER_SET_NAME FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = DATABASE() AND CHARACTER_SET_NAME IS NOT NULL AND CHARACTER_SET_NAME <> 'utf8mb4'
		ORDER BY TABLE_NAME, ORDINAL_POSITION`)
	if err != nil {
		return s, err
	}
	defer cols.Close()
	for cols.Next() {
		var table, column, charset string
		if err := cols.Scan(&table, &column, &charset); err != nil {
			return s, err
		}
		if _, seen := s.columns[table]; !seen {
			s.columns[table] = [2]string{column, charset}
		}
	}
	return s, cols.Err()
}

func isUTF8MB4(collation string) bool { return strings.HasPrefix(collation, "utf8mb4_") }

// bad lists the tables that are not utf8mb4 throughout, sorted.
func (s schemaCharsets) bad() []string {
	var out []string
	for t, c := range s.tables {
		if _, col := s.columns[t]; col || !isUTF8MB4(c) {
			out = append(out, t)
		}
	}
	for t := range s.columns {
		if _, listed := s.tables[t]; !listed && t != versionTable {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// collation is the one utf8mb4 collation the schema converges on.
func (s schemaCharsets) collation() string {
	count := map[string]int{}
	for t, c := range s.tables {
		if _, col := s.columns[t]; !col && isUTF8MB4(c) {
			count[c]++
		}
	}
	best := ""
	for c, n := range count {
		if n > count[best] || (n == count[best] && c < best) {
			best = c
		}
	}
	switch {
	case best != "":
		return best
	case isUTF8MB4(s.database):
		return s.database
	}
	return fallbackCollation
}

func convertUTF8MB4(ctx context.Context, conn querier) error {
	s, err := readCharsets(ctx, conn)
	if err != nil {
		return err
	}
	collation := s.collation()
	if s.database != collation {
		// Names no database: the connection's own.
		if _, err := conn.ExecContext(ctx, "ALTER DATABASE CHARACTER SET utf8mb4 COLLATE "+collation); err != nil {
			return fmt.Errorf("set the database's default: %w", err)
		}
	}
	for _, t := range s.bad() {
		if _, err := conn.ExecContext(ctx, "ALTER TABLE `"+t+"` CONVERT TO CHARACTER SET utf8mb4 COLLATE "+collation); err != nil {
			return fmt.Errorf("table %s: %w", t, err)
		}
	}
	return nil
}

// checkCharsets refuses a MySQL schema that is not utf8mb4 throughout,
// after the migrations have run: a table changed by hand, or created
// outside them, would fail on the first 4-byte character (error 1366, a
// 500) instead of at start-up. The error is one line naming the table and
// the statement that fixes it.
func (db *DB) checkCharsets(ctx context.Context) error {
	if db.dialect != "mysql" {
		return nil
	}
	s, err := readCharsets(ctx, db.sql)
	if err != nil {
		return fmt.Errorf("read the schema's character sets: %w", translate(err))
	}
	bad := s.bad()
	if len(bad) == 0 {
		return nil
	}
	t := bad[0]
	what := "its default character set is " + strings.SplitN(s.tables[t], "_", 2)[0]
	if col, ok := s.columns[t]; ok {
		what = fmt.Sprintf("column %s is %s", col[0], col[1])
	}
	more := ""
	if len(bad) > 1 {
		more = fmt.Sprintf(" (and %d more tables)", len(bad)-1)
	}
	return fmt.Errorf("the schema is not utf8mb4: table %s: %s%s; convert it with ALTER TABLE %s CONVERT TO CHARACTER SET utf8mb4 COLLATE %s",
		t, what, more, t, s.collation())
}
