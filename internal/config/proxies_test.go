package config

import (
	"slices"
	"strings"
	"testing"
)

// TestTrustedProxies: PINGAN_TRUSTED_PROXIES is a list of addresses and
// CIDRs, kept in canonical form; none by default; anything else stops
// start-up with one line naming the variable and the bad entry.
func TestTrustedProxies(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil || c.TrustedProxies != nil {
		t.Fatalf("default: %v, %v", c.TrustedProxies, err)
	}
	c, err = Load(env(map[string]string{"PINGAN_TRUSTED_PROXIES": " 10.0.0.0/8,192.168.1.5 , 172.16.9.1/12, FD00::/8, ::ffff:10.1.1.1, 2001:db8::1"}))
	want := []string{"10.0.0.0/8", "192.168.1.5", "172.16.0.0/12", "fd00::/8", "10.1.1.1", "2001:db8::1"}
	if err != nil || !slices.Equal(c.TrustedProxies, want) {
		t.Fatalf("got %q, %v; want %q", c.TrustedProxies, err, want)
	}
	for _, bad := range []string{"10.0.0.300", "10.0.0.0/33", "proxy.internal", "10.0.0.0/8,", ",10.0.0.1", "10.0.0.1 10.0.0.2",
		"0.0.0.0/0", "::/0", "fe80::1%eth0", "10.0.0.0/8;192.168.0.0/16"} {
		_, err := Load(env(map[string]string{"PINGAN_TRUSTED_PROXIES": bad}))
		if err == nil {
			t.Errorf("%q accepted", bad)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "PINGAN_TRUSTED_PROXIES: ") || strings.Contains(msg, "\n") {
			t.Errorf("%q: error %q is not one line naming the variable", bad, msg)
		}
	}
}
