// Package text checks free text that people type into the platform: names,
// descriptions, notes. Control characters have no place in them and can
// break exports and logs that other systems read.
package text

import "unicode"

// Clean reports whether s holds no control characters; multiline text may
// contain line breaks and tabs.
func Clean(s string, multiline bool) bool {
	for _, r := range s {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == '\ufffd' {
			return false
		}
	}
	return true
}
