package api_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"pingan/internal/access"
	"pingan/internal/auth"
	"pingan/internal/config"
	"pingan/internal/demo"
	"pingan/internal/user"
)

func TestLogin(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ok := e.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "demo-gridworker", "password": demo.Password}})
		expect(t, ok, 200, "")
		body := ok.json(t)
		if body["token_type"] != "Bearer" || body["expires_in"] != float64(900) || body["refresh_token"] == "" {
			t.Fatalf("login body: %s", ok.Body)
		}
		u := body["user"].(map[string]any)
		if u["username"] != "demo-gridworker" || u["role"] != "grid_worker" || u["region_code"] != demo.FuqianGrid1 || u["phone"] != "138****0005" {
			t.Fatalf("user: %v", u)
		}

		wrong := e.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "demo-gridworker", "password": "nope-nope"}})
		unknown := e.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "nobody-here", "password": "nope-nope"}})
		expect(t, wrong, 401, "unauthenticated")
		expect(t, unknown, 401, "unauthenticated")
		if !bytes.Equal(wrong.Body, unknown.Body) {
			t.Fatalf("wrong password and unknown user differ:\n%s\n%s", wrong.Body, unknown.Body)
		}
		// Personal data and secrets stay out of the logs.
		if logs := e.logs.String(); strings.Contains(logs, demo.Password) || strings.Contains(logs, "13800000005") ||
			strings.Contains(logs, body["access_token"].(string)) {
			t.Fatal("logs contain a password, phone or token")
		}
	})
}

func signWith(t *testing.T, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBadTokens(t *testing.T) {
	e := newEnv(t, "sqlite")
	good := e.login(t, "demo-gridworker")
	parts := strings.Split(good, ".")
	var claims jwt.MapClaims
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	key := e.app.Config.JWTKeys[0]
	now := time.Now()
	with := func(edit func(c jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{}
		for k, v := range claims {
			c[k] = v
		}
		edit(c)
		return c
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

	// alg: none, by hand: header and payload with an empty signature.
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"` + key.ID + `"}`))
	tamperedClaims := with(func(c jwt.MapClaims) { c["sub"] = "someone-else" })
	tb, _ := json.Marshal(tamperedClaims)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(tb) + "." + parts[2]

	cases := map[string]string{
		"alg none":        noneHeader + "." + parts[1] + ".",
		"other algorithm": signWith(t, jwt.SigningMethodES256, ecKey, key.ID, claims),
		"HS512 same key":  signWith(t, jwt.SigningMethodHS512, key.Secret, key.ID, claims),
		"other key":       signWith(t, jwt.SigningMethodHS256, bytes.Repeat([]byte{9}, 32), key.ID, claims),
		"tampered":        tampered,
		"no exp":          signWith(t, jwt.SigningMethodHS256, key.Secret, key.ID, with(func(c jwt.MapClaims) { delete(c, "exp") })),
		"expired 31s ago": signWith(t, jwt.SigningMethodHS256, key.Secret, key.ID, with(func(c jwt.MapClaims) { c["exp"] = now.Add(-31 * time.Second).Unix() })),
		"nbf future":      signWith(t, jwt.SigningMethodHS256, key.Secret, key.ID, with(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() })),
		"wrong iss":       signWith(t, jwt.SigningMethodHS256, key.Secret, key.ID, with(func(c jwt.MapClaims) { c["iss"] = "evil" })),
		"wrong aud":       signWith(t, jwt.SigningMethodHS256, key.Secret, key.ID, with(func(c jwt.MapClaims) { c["aud"] = []string{"other"} })),
		"unknown kid":     signWith(t, jwt.SigningMethodHS256, key.Secret, "k-unknown", claims),
		"no kid":          signWith(t, jwt.SigningMethodHS256, key.Secret, "", claims),
		"megabyte dots":   strings.Repeat(".", 1<<20),
		"garbage":         "not-a-token",
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			r := e.do(t, req{method: "GET", path: "/api/v1/me", token: tok})
			expect(t, r, 401, "unauthenticated")
			if d := time.Since(start); d > 2*time.Second {
				// A guard against pathological parsing, not a performance test.
				t.Fatalf("took %v", d)
			}
		})
	}
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/me"}), 401, "unauthenticated")
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/me", header: map[string]string{"Authorization": "Basic " + good}}), 401, "unauthenticated")
	// The genuine token still works.
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/me", token: good}), 200, "")
}

func TestKeyRotation(t *testing.T) {
	e := newEnv(t, "sqlite")
	old := e.login(t, "demo-admin")
	// A new key signs; the old one still verifies tokens issued before.
	newKey := config.Key{ID: "k2", Secret: bytes.Repeat([]byte{42}, 32)}
	rotated := append([]config.Key{newKey}, e.app.Config.JWTKeys...)
	claims := jwt.MapClaims{"iss": "pingan", "aud": []string{"pingan-api"}, "iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix()}
	var me map[string]any
	r := e.do(t, req{method: "GET", path: "/api/v1/me", token: old})
	expect(t, r, 200, "")
	me = r.json(t)
	claims["sub"] = me["id"]
	// A token signed by a key the server has not loaded is refused…
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/me", token: signWith(t, jwt.SigningMethodHS256, newKey.Secret, "k2", claims)}), 401, "unauthenticated")
	// …and accepted by a server that has the rotated set, which still takes the old token.
	e2 := reopen(t, e, rotated)
	expect(t, e2.do(t, req{method: "GET", path: "/api/v1/me", token: signWith(t, jwt.SigningMethodHS256, newKey.Secret, "k2", claims)}), 200, "")
	expect(t, e2.do(t, req{method: "GET", path: "/api/v1/me", token: old}), 200, "")
	fresh := e2.login(t, "demo-admin")
	tok, _, _ := jwt.NewParser().ParseUnverified(fresh, jwt.MapClaims{})
	if tok.Header["kid"] != "k2" {
		t.Fatalf("new tokens signed with kid %v, want k2", tok.Header["kid"])
	}
}

func TestDisabledUserToken(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		tok := e.login(t, "demo-gridworker")
		pair := e.loginPair(t, "demo-gridworker")
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/me", token: tok}), 200, "")
		u, err := e.app.DB.FindUserByUsername(t.Context(), "demo-gridworker")
		if err != nil {
			t.Fatal(err)
		}
		admin := e.login(t, "demo-admin")
		r := e.do(t, req{method: "PATCH", path: "/api/v1/users/" + u.ID, token: admin, body: map[string]any{"active": false}})
		expect(t, r, 200, "")
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/me", token: tok}), 401, "unauthenticated")
		// Its refresh tokens were revoked too, and it cannot log in.
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/auth/refresh", body: map[string]any{"refresh_token": pair["refresh_token"]}}), 401, "unauthenticated")
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "demo-gridworker", "password": demo.Password}}), 401, "unauthenticated")
	})
}

func TestRoleChangeRevokesRefresh(t *testing.T) {
	e := newEnv(t, "sqlite")
	pair := e.loginPair(t, "demo-county-supervisor")
	u, _ := e.app.DB.FindUserByUsername(t.Context(), "demo-county-supervisor")
	admin := e.login(t, "demo-admin")
	expect(t, e.do(t, req{method: "PATCH", path: "/api/v1/users/" + u.ID, token: admin, body: map[string]any{"region_code": demo.GuangraoCounty}}), 200, "")
	expect(t, e.do(t, req{method: "POST", path: "/api/v1/auth/refresh", body: map[string]any{"refresh_token": pair["refresh_token"]}}), 401, "unauthenticated")
	// The still-valid access token now sees the new scope only.
	tok := pair["access_token"].(string)
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/regions/" + demo.DongyingDistrict, token: tok}), 404, "not_found")
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/regions/" + demo.GuangraoCounty, token: tok}), 200, "")
	var updated user.User
	updated, _ = e.app.DB.FindUserByID(t.Context(), u.ID)
	if updated.RegionCode != demo.GuangraoCounty || updated.Role != access.Supervisor {
		t.Fatalf("stored user: %+v", updated)
	}
}

func TestRefreshRotation(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		refresh := func(tok any) resp {
			return e.do(t, req{method: "POST", path: "/api/v1/auth/refresh", body: map[string]any{"refresh_token": tok}})
		}
		first := e.loginPair(t, "demo-mediator")["refresh_token"]

		// Rotation: the first use answers a new pair.
		r1 := refresh(first)
		expect(t, r1, 200, "")
		second := r1.json(t)["refresh_token"]
		if second == first {
			t.Fatal("refresh returned the same token")
		}
		access1 := r1.json(t)["access_token"].(string)
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/me", token: access1}), 200, "")

		// A retry within 10 s (a phone that lost the response) gets the same successor.
		e.clock.advance(5 * time.Second)
		r2 := refresh(first)
		expect(t, r2, 200, "")
		if r2.json(t)["refresh_token"] != second {
			t.Fatalf("retry within grace returned %v, want %v", r2.json(t)["refresh_token"], second)
		}

		// After the grace, re-use of the spent token revokes the whole family.
		e.clock.advance(6 * time.Second)
		expect(t, refresh(first), 401, "unauthenticated")
		expect(t, refresh(second), 401, "unauthenticated")

		// A new login starts a fresh, working family.
		other := e.loginPair(t, "demo-mediator")["refresh_token"]
		expect(t, refresh(other), 200, "")
	})
}

func TestLogout(t *testing.T) {
	e := newEnv(t, "sqlite")
	pair := e.loginPair(t, "demo-supervisor")
	r := e.do(t, req{method: "POST", path: "/api/v1/auth/logout", body: map[string]any{"refresh_token": pair["refresh_token"]}})
	if r.Code != http.StatusNoContent || len(r.Body) != 0 {
		t.Fatalf("logout: %d %s", r.Code, r.Body)
	}
	expect(t, e.do(t, req{method: "POST", path: "/api/v1/auth/refresh", body: map[string]any{"refresh_token": pair["refresh_token"]}}), 401, "unauthenticated")
	expect(t, e.do(t, req{method: "POST", path: "/api/v1/auth/logout", body: map[string]any{}}), 400, "invalid_argument")
	// Both the login and the logout are in the audit log.
	a := e.do(t, req{method: "GET", path: "/api/v1/audit?entity=session&limit=100", token: e.login(t, "demo-admin")})
	actions := map[string]bool{}
	for _, it := range a.json(t)["items"].([]any) {
		m := it.(map[string]any)
		if m["actor_id"] == pair["user"].(map[string]any)["id"] {
			actions[m["action"].(string)] = true
		}
	}
	if !actions["auth.login"] || !actions["auth.logout"] {
		t.Fatalf("audit of the session: %v", actions)
	}
}

// TestParallelLoginGuesses: guesses sent all at once are limited like
// guesses sent one by one.
func TestParallelLoginGuesses(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		var wg sync.WaitGroup
		codes := make([]int, 40)
		for i := range codes {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				r := e.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "demo-supervisor", "password": "wrong-password"}})
				codes[i] = r.Code
			}(i)
		}
		wg.Wait()
		unauthorised := 0
		for _, c := range codes {
			switch c {
			case 401:
				unauthorised++
			case 429:
			default:
				t.Fatalf("parallel guess answered %d", c)
			}
		}
		if unauthorised > auth.MaxUserFailures {
			t.Fatalf("%d guesses were judged; the limit is %d", unauthorised, auth.MaxUserFailures)
		}
	})
}

// TestPatchesDoNotUndoADisable: a disable racing other patches stays.
func TestPatchesDoNotUndoADisable(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.login(t, "demo-admin")
		u, _ := e.app.DB.FindUserByUsername(t.Context(), "demo-mediator")
		for round := 0; round < 5; round++ {
			expect(t, e.do(t, req{method: "PATCH", path: "/api/v1/users/" + u.ID, token: admin, body: map[string]any{"active": true}}), 200, "")
			var wg sync.WaitGroup
			for i := 0; i < 5; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					body := map[string]any{"name": fmt.Sprintf("调解员%d", i)}
					if i == 2 {
						body = map[string]any{"active": false}
					}
					if r := e.do(t, req{method: "PATCH", path: "/api/v1/users/" + u.ID, token: admin, body: body}); r.Code != 200 {
						t.Errorf("patch %d: %d %s", i, r.Code, r.Body)
					}
				}(i)
			}
			wg.Wait()
			got, err := e.app.DB.FindUserByID(t.Context(), u.ID)
			if err != nil || got.Active {
				t.Fatalf("round %d: the disable was undone (%v)", round, err)
			}
		}
	})
}
