package intake

import "testing"

func TestPhones(t *testing.T) {
	for _, c := range []struct {
		in, norm string
		ok       bool
	}{
		{"13912345678", "13912345678", true},
		{"139 1234 5678", "13912345678", true},
		{"138-0000-9999", "13800009999", true},
		{"+86 139 1234 5678", "13912345678", true},
		{"8613912345678", "13912345678", true},
		{"19912345678", "19912345678", true},
		{"0546-8221234", "05468221234", true},
		{"(0546) 822 1234", "05468221234", true},
		{"010-62345678", "01062345678", true},
		{"+86 10 62345678", "01062345678", true},
		{"+86 546 8221234", "05468221234", true},
		{"12912345678", "12912345678", false}, // 12x is no mobile prefix
		{"1391234567", "1391234567", false},   // 10 digits
		{"139123456789", "139123456789", false},
		{"139****5678", "139****5678", false}, // a masked number
		{"+1 415 555 0100", "+14155550100", false},
		{"5468221234", "5468221234", false},   // a landline needs its leading 0
		{"0546-82212", "054682212", false},    // too short for an area code and a number
		{"１３９１２３４５６７８", "１３９１２３４５６７８", false}, // full-width digits
		{"", "", false},
	} {
		if got := NormalisePhone(c.in); got != c.norm {
			t.Errorf("NormalisePhone(%q) = %q, want %q", c.in, got, c.norm)
		}
		if got := ValidPhone(NormalisePhone(c.in)); got != c.ok {
			t.Errorf("ValidPhone(%q) = %v, want %v", c.in, got, c.ok)
		}
	}
}

// TestIDNumbers: the check digit of GB 11643-1999 for numbers known to be
// valid (the standard's own example and published specimens), and the
// example of issue #12: 370502198001011235 has the wrong check digit; the
// same 17 digits with their real one pass.
func TestIDNumbers(t *testing.T) {
	for _, valid := range []string{
		"11010519491231002X", // the standard's example, check digit X
		"440524188001010014",
		"110101199003074477",
		"370502199001011233",
	} {
		if got := IDCheckDigit(valid[:17]); got != valid[17] {
			t.Errorf("IDCheckDigit(%s) = %c, want %c", valid[:17], got, valid[17])
		}
		if !ValidIDNumber(valid) {
			t.Errorf("%s refused", valid)
		}
	}
	real := "37050219800101123" + string(IDCheckDigit("37050219800101123"))
	if real != "370502198001011239" || !ValidIDNumber(real) {
		t.Errorf("the real number is %s", real)
	}
	for _, bad := range []string{
		"370502198001011235",  // issue #12: wrong check digit
		"370502198001011234",  // wrong check digit too
		"11010519491231002x",  // the X is upper case (callers upper-case first)
		"37050219800101123",   // 17 characters
		"3705021980010112399", // 19
		"37050219800101123A",
		"3705021980O1011239", // a letter O among the digits
		"",
	} {
		if ValidIDNumber(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
	if IDCheckDigit("1234") != 0 || IDCheckDigit("1101051949123100A") != 0 {
		t.Error("IDCheckDigit of no 17 digits is not 0")
	}
}
