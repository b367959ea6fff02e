package store_test

import (
	"context"
	"regexp"
	"testing"

	"pingan/internal/region"
	"pingan/internal/testenv"
)

// TestUTF8MB4 (MariaDB): a database created with MySQL's 3-byte "utf8"
// gives its tables that set, where 😡 or 𠮷 fail to insert (error 1366).
// Migration 12 converts every table and the database's default; then
// 4-byte text is stored and read back. A table converted back by hand
// makes Migrate (and so start-up) refuse, in one line naming it.
func TestUTF8MB4(t *testing.T) {
	ctx := context.Background()
	url := testenv.MySQLDSNCharset(t, "utf8", "utf8_general_ci")
	db := openDBAt(t, url, 11)
	var before string
	if err := db.SQL().QueryRowContext(ctx, `SELECT TABLE_COLLATION FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'incidents'`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	if before == "" || before[:7] == "utf8mb4" {
		t.Fatalf("the test's schema starts as %q, not 3-byte utf8: the test would prove nothing", before)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := db.SQL().QueryContext(ctx, `SELECT TABLE_NAME, TABLE_COLLATION FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> 'goose_db_version'`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var name, collation string
		if err := rows.Scan(&name, &collation); err != nil {
			t.Fatal(err)
		}
		if collation != "utf8mb4_unicode_ci" {
			t.Errorf("table %s is %s", name, collation)
		}
		n++
	}
	rows.Close()
	var cols int
	if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
		AND CHARACTER_SET_NAME IS NOT NULL AND CHARACTER_SET_NAME <> 'utf8mb4'`).Scan(&cols); err != nil || cols != 0 || n < 20 {
		t.Fatalf("%d columns not utf8mb4 (%v) in %d tables", cols, err, n)
	}
	var dbDefault string
	if err := db.SQL().QueryRowContext(ctx, `SELECT DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA
		WHERE SCHEMA_NAME = DATABASE()`).Scan(&dbDefault); err != nil || dbDefault != "utf8mb4_unicode_ci" {
		t.Fatalf("the database's default is %q (%v): tables made later would not be utf8mb4", dbDefault, err)
	}

	// 4-byte characters are stored and read back.
	const name = "𠮷田😡社区"
	if err := db.UpsertRegions(ctx, []region.Region{{Code: "370500", Name: name, Level: region.City, Path: "/370500/", Population: 1}}); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := db.SQL().QueryRowContext(ctx, "SELECT name FROM regions WHERE code = '370500'").Scan(&got); err != nil || got != name {
		t.Fatalf("read back %q, %v", got, err)
	}

	// A table left in utf8 is refused at start-up, in one line.
	if _, err := db.SQL().ExecContext(ctx, "ALTER TABLE incidents CONVERT TO CHARACTER SET utf8 COLLATE utf8_general_ci"); err != nil {
		t.Fatal(err)
	}
	err = db.Migrate(ctx)
	want := regexp.MustCompile(`^the schema is not utf8mb4: table incidents: column id is utf8(mb3)?; ` +
		`convert it with ALTER TABLE incidents CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci$`)
	if err == nil || !want.MatchString(err.Error()) {
		t.Fatalf("Migrate: %v", err)
	}
}
