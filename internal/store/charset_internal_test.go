package store

import (
	"reflect"
	"testing"
)

// TestCharsetChoices: which tables migration 12 converts, and to which one
// collation.
func TestCharsetChoices(t *testing.T) {
	for _, c := range []struct {
		name      string
		s         schemaCharsets
		bad       []string
		collation string
	}{
		{"a utf8 database", schemaCharsets{database: "utf8mb3_general_ci",
			tables: map[string]string{"a": "utf8mb3_general_ci", "b": "utf8mb3_general_ci"}},
			[]string{"a", "b"}, "utf8mb4_unicode_ci"},
		{"a utf8mb4 database: nothing to convert, its collation kept", schemaCharsets{database: "utf8mb4_0900_ai_ci",
			tables: map[string]string{"a": "utf8mb4_0900_ai_ci", "b": "utf8mb4_0900_ai_ci"}},
			nil, "utf8mb4_0900_ai_ci"},
		{"a utf8 database whose tables are mostly utf8mb4: their collation", schemaCharsets{database: "utf8mb3_general_ci",
			tables: map[string]string{"a": "utf8mb4_uca1400_ai_ci", "b": "utf8mb4_uca1400_ai_ci", "c": "latin1_swedish_ci"}},
			[]string{"c"}, "utf8mb4_uca1400_ai_ci"},
		{"a utf8mb4 table with a utf8 column", schemaCharsets{database: "utf8mb4_unicode_ci",
			tables:  map[string]string{"a": "utf8mb4_unicode_ci", "b": "utf8mb4_unicode_ci"},
			columns: map[string][2]string{"b": {"name", "utf8mb3"}}},
			[]string{"b"}, "utf8mb4_unicode_ci"},
	} {
		if got := c.s.bad(); !reflect.DeepEqual(got, c.bad) {
			t.Errorf("%s: bad %v, want %v", c.name, got, c.bad)
		}
		if got := c.s.collation(); got != c.collation {
			t.Errorf("%s: collation %s, want %s", c.name, got, c.collation)
		}
	}
}
