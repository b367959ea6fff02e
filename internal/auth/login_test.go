package auth

import "testing"

// TestAddressKey: the per-address limit counts IPv4 addresses one by one
// and IPv6 clients by their /64, however the address is written.
func TestAddressKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.10":           "192.0.2.10",
		"::ffff:192.0.2.10":    "192.0.2.10",
		"2001:db8:1:2::5":      "2001:db8:1:2::/64",
		"2001:DB8:1:2:ffff::6": "2001:db8:1:2::/64",
		"2001:db8:1:3::5":      "2001:db8:1:3::/64",
		"fe80::1%eth0":         "fe80::/64",
		"":                     "",
		"not-an-address":       "not-an-address",
	} {
		if got := addressKey(in); got != want {
			t.Errorf("addressKey(%q) = %q, want %q", in, got, want)
		}
	}
}
