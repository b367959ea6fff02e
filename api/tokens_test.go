package api_test

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"pingan/internal/auth"
)

// unauthenticatedBody is the whole body of every 401.
const unauthenticatedBody = `{"error":{"code":"unauthenticated","message":"authentication required or invalid"}}`

// expectBody fails unless r has the status and exactly the body.
func expectBody(t testing.TB, r resp, status int, body string) {
	t.Helper()
	if r.Code != status || string(r.Body) != body {
		t.Fatalf("got %d %s\nwant %d %s", r.Code, r.Body, status, body)
	}
}

// rawToken signs payload, given as JSON text, with the env's signing key,
// so that a claim can be any JSON value.
func (e *env) rawToken(t *testing.T, payload string) string {
	t.Helper()
	key := e.app.Config.JWTKeys[0]
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(`{"alg":"HS256","kid":"`+key.ID+`","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(payload))
	sig, err := jwt.SigningMethodHS256.Sign(signing, key.Secret)
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + enc.EncodeToString(sig)
}

// TestTokenTimeClaims: correctly signed access tokens are refused when
// their times break SPEC §6.1 (issue #12 part 4): a one-year lifetime, an
// iat an hour ahead, a time claim that is a string, a missing exp or iat.
// The same claims with sane times are accepted, so that the refusals are
// the times' doing.
func TestTokenTimeClaims(t *testing.T) {
	e := newEnv(t, "sqlite")
	sub := e.userID(t, "demo-gridworker")
	now := e.clock.now().Unix()
	num := func(d time.Duration) string { return strconv.FormatInt(now+int64(d/time.Second), 10) }
	claims := func(times string) string {
		return `{"iss":"pingan","aud":["pingan-api"],"sub":"` + sub + `"` + times + `}`
	}
	expectBody(t, e.do(t, req{method: "GET", path: "/api/v1/me", token: e.rawToken(t, claims(`,"iat":`+num(0)+`,"exp":`+num(auth.AccessTTL)))}),
		200, string(e.do(t, req{method: "GET", path: "/api/v1/me", token: e.login(t, "demo-gridworker")}).Body))
	for name, times := range map[string]string{
		"a one-year lifetime":         `,"iat":` + num(0) + `,"exp":` + num(365*24*time.Hour),
		"a lifetime of 15 min 1 s":    `,"iat":` + num(-time.Minute) + `,"exp":` + num(auth.AccessTTL-time.Minute+time.Second),
		"iat an hour ahead":           `,"iat":` + num(time.Hour) + `,"exp":` + num(time.Hour+time.Minute),
		"iat 15 s ahead":              `,"iat":` + num(auth.Leeway+5*time.Second) + `,"exp":` + num(time.Minute), // beyond the leeway however slow the test runs
		"exp a string of digits":      `,"iat":` + num(0) + `,"exp":"` + num(time.Minute) + `"`,
		"exp a date string":           `,"iat":` + num(0) + `,"exp":"2099-01-01T00:00:00Z"`,
		"iat a string of digits":      `,"iat":"` + num(0) + `","exp":` + num(time.Minute),
		"nbf a string of digits":      `,"iat":` + num(0) + `,"nbf":"` + num(0) + `","exp":` + num(time.Minute),
		"exp null":                    `,"iat":` + num(0) + `,"exp":null`,
		"no exp":                      `,"iat":` + num(0),
		"no iat":                      `,"exp":` + num(time.Minute),
		"nbf a minute ahead":          `,"iat":` + num(0) + `,"nbf":` + num(time.Minute) + `,"exp":` + num(2*time.Minute),
		"expired beyond the leeway":   `,"iat":` + num(-time.Minute) + `,"exp":` + num(-auth.Leeway-time.Second),
		"a lifetime of 15 min, ahead": `,"iat":` + num(2*time.Minute) + `,"exp":` + num(2*time.Minute+auth.AccessTTL),
	} {
		t.Run(name, func(t *testing.T) {
			r := e.do(t, req{method: "GET", path: "/api/v1/me", token: e.rawToken(t, claims(times))})
			expectBody(t, r, 401, unauthenticatedBody)
			if got := r.Header.Get("WWW-Authenticate"); got != `Bearer realm="pingan", error="invalid_token"` {
				t.Fatalf("WWW-Authenticate %q", got)
			}
		})
	}
}

// TestBearerScheme: the scheme word is matched in any case and may be
// followed by several spaces (RFC 9110 §11.1); anything else is 401.
func TestBearerScheme(t *testing.T) {
	e := newEnv(t, "sqlite")
	tok := e.login(t, "demo-gridworker")
	for _, h := range []string{"Bearer " + tok, "bearer " + tok, "BEARER " + tok, "bEaReR " + tok, "Bearer   " + tok} {
		r := e.do(t, req{method: "GET", path: "/api/v1/me", header: map[string]string{"Authorization": h}})
		if r.Code != 200 || r.json(t)["username"] != "demo-gridworker" {
			t.Fatalf("%.12q…: %d %s", h, r.Code, r.Body)
		}
	}
	for _, h := range []string{"Bearer" + tok, "Bearer ", "Bearer\t" + tok, "Basic " + tok, "Token " + tok, tok, "Bearer " + tok + " x"} {
		r := e.do(t, req{method: "GET", path: "/api/v1/me", header: map[string]string{"Authorization": h}})
		expectBody(t, r, 401, unauthenticatedBody)
	}
}

// TestRefreshRetryByteForByte: a refresh retried within 10 s answers the
// first response byte for byte (SPEC §6.1), the access token included,
// even when the account was edited in between; parallel retries alike.
// One successor is stored, with the answer sealed; after the grace, re-use
// revokes the family.
func TestRefreshRetryByteForByte(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		refresh := func(tok any) resp {
			return e.do(t, req{method: "POST", path: "/api/v1/auth/refresh", body: map[string]any{"refresh_token": tok}})
		}
		pair := e.loginPair(t, "demo-mediator")
		first := pair["refresh_token"].(string)
		r1 := refresh(first)
		expect(t, r1, 200, "")
		if r1.json(t)["access_token"] == pair["access_token"] {
			t.Fatal("the refresh answered the old access token")
		}

		// The account changes in between (no revocation: a new name).
		admin := e.login(t, "demo-admin")
		id := e.userID(t, "demo-mediator")
		expect(t, e.do(t, req{method: "PATCH", path: "/api/v1/users/" + id, token: admin, body: map[string]any{"name": "新名字"}}), 200, "")
		e.clock.advance(5 * time.Second)
		r2 := refresh(first)
		if r2.Code != r1.Code || !bytes.Equal(r2.Body, r1.Body) {
			t.Fatalf("retry within the grace:\n%d %s\nfirst:\n%d %s", r2.Code, r2.Body, r1.Code, r1.Body)
		}
		// The answer is the first one; the account's current state is /me's.
		me := e.do(t, req{method: "GET", path: "/api/v1/me", token: r2.json(t)["access_token"].(string)})
		if me.Code != 200 || me.json(t)["name"] != "新名字" {
			t.Fatalf("/me with the retried token: %d %s", me.Code, me.Body)
		}

		// Parallel retries of a fresh token all get one answer.
		second := r1.json(t)["refresh_token"].(string)
		var wg sync.WaitGroup
		answers := make([]resp, 6)
		for i := range answers {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				answers[i] = refresh(second)
			}(i)
		}
		wg.Wait()
		for i, r := range answers {
			if r.Code != 200 || !bytes.Equal(r.Body, answers[0].Body) {
				t.Fatalf("parallel refresh %d: %d %s\nfirst: %s", i, r.Code, r.Body, answers[0].Body)
			}
		}
		third := answers[0].json(t)["refresh_token"].(string)

		// One row per rotation: the login's, and the two successors. What
		// is kept for a retry is sealed: no token appears in plain.
		family := familyOf(t, e, first)
		rows, err := e.app.DB.SQL().Query("SELECT COALESCE(successor_sealed, ''), COALESCE(answer_sealed, '') FROM refresh_tokens WHERE family_id = ?", family)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n, sealed := 0, 0
		for rows.Next() {
			var succ, ans string
			if err := rows.Scan(&succ, &ans); err != nil {
				t.Fatal(err)
			}
			n++
			for _, plain := range []string{first, second, third, r1.json(t)["access_token"].(string), "新名字", "演示调解员"} {
				if strings.Contains(succ+ans, plain) {
					t.Fatalf("a stored retry answer holds %q in plain", plain)
				}
			}
			if ans != "" {
				sealed++
				if !strings.HasPrefix(ans, "v1.") || !strings.HasPrefix(succ, "v1.") {
					t.Fatalf("not sealed: %.20q %.20q", succ, ans)
				}
			}
		}
		if n != 3 || sealed != 2 {
			t.Fatalf("%d tokens in the family (%d with an answer), want 3 (2)", n, sealed)
		}

		// After the grace, re-use revokes the whole family.
		e.clock.advance(6 * time.Second)
		expectBody(t, refresh(first), 401, unauthenticatedBody)
		expectBody(t, refresh(third), 401, unauthenticatedBody)
	})
}

// familyOf is the family id of a refresh token.
func familyOf(t *testing.T, e *env, token string) string {
	t.Helper()
	tok, err := e.app.DB.FindRefreshToken(t.Context(), auth.HashKey(token))
	if err != nil {
		t.Fatal(err)
	}
	return tok.FamilyID
}
