package intake

import (
	"regexp"
	"strings"
)

// The forms a phone or ID number must take (SPEC §6 "plausible input"),
// as validation errors say them.
const (
	PhoneForm    = "a mainland mobile number (11 digits starting 13–19, e.g. 13912345678) or a landline with its area code (e.g. 0546-8221234)"
	IDNumberForm = "an 18-character resident ID number (GB 11643: 17 digits and a check digit, 0–9 or X)"
)

var (
	// mobile is a mainland mobile number: 1, then 3–9, then 9 digits.
	mobile = regexp.MustCompile(`^1[3-9][0-9]{9}$`)
	// landline is an area code (0 and 2 or 3 digits: 010, 0546) and a
	// local number of 7 or 8 digits that does not start with 0 or 1.
	landline = regexp.MustCompile(`^0[1-9][0-9]{1,2}[2-9][0-9]{6,7}$`)
)

// NormalisePhone is a phone number in the one form pingan keeps and
// searches by: without the spaces, dashes and brackets people write
// ("139 1234 5678", "(0546) 822-1234"), and without the country code
// (+86 13912345678 is 13912345678, +86 546 8221234 is 05468221234).
func NormalisePhone(s string) string {
	s = strings.NewReplacer(" ", "", "-", "", "(", "", ")", "", "（", "", "）", "").Replace(strings.TrimSpace(s))
	if rest, ok := strings.CutPrefix(s, "+86"); ok {
		if mobile.MatchString(rest) {
			return rest
		}
		return "0" + rest
	}
	if len(s) == 13 && strings.HasPrefix(s, "86") && mobile.MatchString(s[2:]) {
		return s[2:]
	}
	return s
}

// ValidPhone reports whether s, normalised (NormalisePhone), is a mainland
// mobile number or a landline with its area code.
func ValidPhone(s string) bool {
	return mobile.MatchString(s) || landline.MatchString(s)
}

// idWeights are the weights 2^(17−i) mod 11 of GB 11643-1999's check digit.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// IDCheckDigit is the check digit (0–9 or X) that GB 11643-1999 gives the
// 17 digits of an ID number; 0 when first17 is not 17 digits.
func IDCheckDigit(first17 string) byte {
	if len(first17) != 17 {
		return 0
	}
	sum := 0
	for i := 0; i < 17; i++ {
		d := first17[i]
		if d < '0' || d > '9' {
			return 0
		}
		sum += int(d-'0') * idWeights[i]
	}
	return "10X98765432"[sum%11]
}

// ValidIDNumber reports whether s is an 18-character resident ID number
// whose last character is the GB 11643-1999 check digit of the others (an
// upper-case X for 10).
func ValidIDNumber(s string) bool {
	return len(s) == 18 && IDCheckDigit(s[:17]) == s[17]
}
