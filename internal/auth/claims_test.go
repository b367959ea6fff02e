package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"pingan/internal/errs"
)

var claimsNow = time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)

// signRaw signs payload (JSON text, as given) with the test signer's key
// k1, so that a test controls every byte of the claims.
func signRaw(payload string) string {
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"alg":"HS256","kid":"k1","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(payload))
	mac := hmac.New(sha256.New, bytes.Repeat([]byte{1}, 32))
	mac.Write([]byte(head))
	return head + "." + enc.EncodeToString(mac.Sum(nil))
}

// claimsJSON is a token's payload with iat and exp as given (raw JSON
// values; "" leaves the claim out) and the rest as Sign writes it.
func claimsJSON(iat, exp string, more ...string) string {
	s := `{"iss":"pingan","sub":"user-1","aud":["pingan-api"],"sid":"session-1"`
	if iat != "" {
		s += `,"iat":` + iat
	}
	if exp != "" {
		s += `,"exp":` + exp
	}
	for _, m := range more {
		s += "," + m
	}
	return s + "}"
}

func unix(d time.Duration) string { return fmt.Sprint(claimsNow.Add(d).Unix()) }

// TestTimeClaims: a correctly signed token is refused when its iat lies in
// the future beyond the leeway, its lifetime exceeds AccessTTL, exp or iat
// is missing, or a time claim is anything but a JSON number (issue #12
// part 4); whether the signer checks it afresh or remembers it.
func TestTimeClaims(t *testing.T) {
	for _, c := range []struct {
		name    string
		payload string
		ok      bool
	}{
		{"as Sign makes it", claimsJSON(unix(0), unix(AccessTTL), `"nbf":`+unix(0)), true},
		{"iat within the leeway ahead", claimsJSON(unix(Leeway/2), unix(AccessTTL)), true},
		{"a lifetime of exactly 15 min", claimsJSON(unix(-time.Minute), unix(AccessTTL-time.Minute)), true},
		{"times as JSON numbers with a fraction", claimsJSON(unix(0)+".5", unix(time.Minute)+".0e0"), true},

		{"iat an hour ahead", claimsJSON(unix(time.Hour), unix(time.Hour+time.Minute)), false},
		{"iat beyond the leeway ahead", claimsJSON(unix(Leeway+2*time.Second), unix(AccessTTL)), false},
		{"a one-year lifetime", claimsJSON(unix(0), unix(365*24*time.Hour)), false},
		{"a lifetime of 15 min and 1 s", claimsJSON(unix(-time.Minute), unix(AccessTTL-time.Minute+time.Second)), false},
		{"no exp", claimsJSON(unix(0), ""), false},
		{"no iat", claimsJSON("", unix(time.Minute)), false},
		{"exp a string of digits", claimsJSON(unix(0), `"`+unix(time.Minute)+`"`), false},
		{"exp a date string", claimsJSON(unix(0), `"2026-11-27T08:05:00Z"`), false},
		{"iat a string of digits", claimsJSON(`"`+unix(0)+`"`, unix(time.Minute)), false},
		{"nbf a string of digits", claimsJSON(unix(0), unix(time.Minute), `"nbf":"`+unix(0)+`"`), false},
		{"exp null", claimsJSON(unix(0), "null"), false},
		{"exp true", claimsJSON(unix(0), "true"), false},
		{"exp an object", claimsJSON(unix(0), `{"n":1}`), false},
		{"exp an array", claimsJSON(unix(0), `[1]`), false},
		{"expired beyond the leeway", claimsJSON(unix(-time.Minute), unix(-Leeway-time.Second)), false},
		{"no subject", `{"iss":"pingan","aud":["pingan-api"],"iat":` + unix(0) + `,"exp":` + unix(time.Minute) + `}`, false},
	} {
		tok := signRaw(c.payload)
		s := testSigner(t, func() time.Time { return claimsNow })
		for _, round := range []string{"fresh", "remembered"} {
			at, err := s.Verify(tok)
			if c.ok && (err != nil || at.UserID != "user-1" || at.SessionID != "session-1") {
				t.Errorf("%s (%s): %+v, %v", c.name, round, at, err)
			}
			if !c.ok && !errors.Is(err, errs.ErrUnauthenticated) {
				t.Errorf("%s (%s): %+v, %v; want ErrUnauthenticated", c.name, round, at, err)
			}
		}
	}
}

// TestRememberedTokenTimes: a remembered token is judged by the same times
// as a fresh one, its iat included.
func TestRememberedTokenTimes(t *testing.T) {
	now := claimsNow
	s := testSigner(t, func() time.Time { return now })
	tok := signRaw(claimsJSON(unix(Leeway/2), unix(AccessTTL)))
	if _, err := s.Verify(tok); err != nil {
		t.Fatal(err)
	}
	now = claimsNow.Add(-Leeway) // the clock goes back: iat is now beyond the leeway ahead
	if _, err := s.Verify(tok); !errors.Is(err, errs.ErrUnauthenticated) {
		t.Fatalf("remembered token with iat ahead: %v", err)
	}
}

// FuzzVerify: whatever a correctly signed payload holds, or whatever text
// is presented as a token, Verify never panics, and a token it accepts
// keeps every rule of SPEC §6.1.
func FuzzVerify(f *testing.F) {
	f.Add([]byte(claimsJSON(unix(0), unix(AccessTTL))))
	f.Add([]byte(claimsJSON(unix(time.Hour), unix(time.Hour+time.Minute))))
	f.Add([]byte(claimsJSON(unix(0), `"`+unix(time.Minute)+`"`)))
	f.Add([]byte(claimsJSON(unix(0), "1e99")))
	f.Add([]byte(claimsJSON(unix(0), "-1e99", `"nbf":null`)))
	f.Add([]byte(`{"exp":1,"exp":"2"}`))
	f.Add([]byte(`eyJhbGciOiJub25lIn0.e30.`))
	s := testSigner(f, func() time.Time { return claimsNow })
	f.Fuzz(func(t *testing.T, payload []byte) {
		if _, err := s.Verify(string(payload)); err == nil {
			t.Fatalf("unsigned text accepted: %q", payload)
		}
		at, err := s.Verify(signRaw(string(payload)))
		if err != nil {
			if !errors.Is(err, errs.ErrUnauthenticated) {
				t.Fatalf("%v is not ErrUnauthenticated", err)
			}
			return
		}
		d := json.NewDecoder(bytes.NewReader(payload))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			t.Fatalf("accepted a payload that is no JSON object: %q", payload)
		}
		num := func(k string) float64 {
			n, ok := m[k].(json.Number)
			if !ok {
				t.Fatalf("accepted %s that is not a number: %q", k, payload)
			}
			v, _ := n.Float64()
			return v
		}
		iat, exp := num("iat"), num("exp")
		now := float64(claimsNow.Unix())
		if _, has := m["nbf"]; has {
			num("nbf")
		}
		if exp-iat > AccessTTL.Seconds()+1 || iat > now+Leeway.Seconds()+1 || exp < now-Leeway.Seconds()-1 || at.UserID == "" {
			t.Fatalf("accepted %q as %+v", payload, at)
		}
	})
}
