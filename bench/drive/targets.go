package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// endpoint is one side of a comparison: how to make its requests and which
// status means success.
type endpoint struct {
	// Name is "api" or "raw".
	Name string
	// Describe is the request in words, for the report ("POST /api/v1/incidents").
	Describe string
	// Want is the one status that counts as success.
	Want int
	// Targeter makes the next request; safe for concurrent use.
	Targeter vegeta.Targeter
	// check inspects a successful preflight body; nil accepts any.
	check func(body []byte) error
}

// incidentBody is the JSON of one report; seq makes every body different,
// as real reports are (the idempotency record hashes the body).
func incidentBody(seq uint64) []byte {
	return fmt.Appendf(nil, `{"category":"public_order","severity":"low","description":"bench %d","location":{"lat":37.45,"lng":118.58,"address":"府前社区"},"occurred_at":%q}`,
		seq, time.Now().UTC().Format(time.RFC3339))
}

// ingestTargeter POSTs a new incident to url each time, with a unique
// Idempotency-Key; token, when not nil, supplies the bearer token.
func ingestTargeter(url, runID string, token func() string) vegeta.Targeter {
	var seq atomic.Uint64
	return func(t *vegeta.Target) error {
		n := seq.Add(1)
		h := http.Header{"Content-Type": []string{"application/json"}, "Accept-Encoding": []string{"identity"}}
		if token != nil {
			h.Set("Authorization", "Bearer "+token())
			h.Set("Idempotency-Key", fmt.Sprintf("bench-%s-%d", runID, n))
		}
		*t = vegeta.Target{Method: http.MethodPost, URL: url, Body: incidentBody(n), Header: h}
		return nil
	}
}

// readTargeter GETs the first page of a township, the next township of
// townships each time; urlFor builds the URL for a township code.
func readTargeter(townships []string, urlFor func(string) string, token func() string) vegeta.Targeter {
	var seq atomic.Uint64
	return func(t *vegeta.Target) error {
		n := seq.Add(1) - 1
		// The floor answers uncompressed: so must the server, for the ratio
		// to compare the same work (Go's transport would ask for gzip).
		h := http.Header{"Accept-Encoding": []string{"identity"}}
		if token != nil {
			h.Set("Authorization", "Bearer "+token())
		}
		*t = vegeta.Target{Method: http.MethodGet, URL: urlFor(townships[n%uint64(len(townships))]), Header: h}
		return nil
	}
}

// hasID accepts a create response: a JSON object with a non-empty "id".
func hasID(body []byte) error {
	var v struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.ID == "" {
		return fmt.Errorf("201 without an id in the body: %s", snippet(body))
	}
	return nil
}

// hasItems accepts a list response with at least one item: the read
// benchmark means nothing over an empty table.
func hasItems(body []byte) error {
	var v struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("200 without an items list: %s", snippet(body))
	}
	if len(v.Items) == 0 {
		return fmt.Errorf("the first page is empty: load incidents first (bench/load)")
	}
	return nil
}

// preflight sends one request through the endpoint's targeter and explains
// in one line why the endpoint cannot be measured, or returns nil. A 404
// for the incident routes means the server has no incident API yet.
func preflight(ctx context.Context, c *http.Client, e endpoint) error {
	var t vegeta.Target
	if err := e.Targeter(&t); err != nil {
		return err
	}
	req, err := t.Request()
	if err != nil {
		return err
	}
	resp, err := c.Do(req.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("%s: %v", e.Describe, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusNotFound && e.Name == "api":
		return fmt.Errorf("%s answered 404: this pingan build has no incident API yet (%s)", e.Describe, snippet(body))
	case resp.StatusCode != e.Want:
		return fmt.Errorf("%s answered %d, want %d: %s", e.Describe, resp.StatusCode, e.Want, snippet(body))
	case e.check != nil:
		return e.check(body)
	}
	return nil
}

// login signs in to the API and returns the access token.
func login(ctx context.Context, c *http.Client, base, username, password string) (string, error) {
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/auth/login", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("login as %s: %w", username, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("login as %s: POST /api/v1/auth/login answered %d: %s", username, resp.StatusCode, snippet(raw))
	}
	var v struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(raw, &v); err != nil || v.AccessToken == "" {
		return "", fmt.Errorf("login as %s: no access_token in %s", username, snippet(raw))
	}
	return v.AccessToken, nil
}

// tokenSource keeps an access token fresh: tokens live 15 minutes, and a
// whole run may take longer, so each phase asks for a new one when the
// current one is older than ten minutes.
type tokenSource struct {
	client              *http.Client
	base, user, pass    string
	token               atomic.Pointer[string]
	issued              time.Time
	lifetimeBeforeRenew time.Duration
}

// Renew logs in again when the token is missing or old.
func (s *tokenSource) Renew(ctx context.Context) error {
	if s.token.Load() != nil && time.Since(s.issued) < s.lifetimeBeforeRenew {
		return nil
	}
	tok, err := login(ctx, s.client, s.base, s.user, s.pass)
	if err != nil {
		return err
	}
	s.token.Store(&tok)
	s.issued = time.Now()
	return nil
}

// Token is the current token ("" before the first Renew).
func (s *tokenSource) Token() string {
	if p := s.token.Load(); p != nil {
		return *p
	}
	return ""
}

// snippet is the start of a response body, on one line, for error messages.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	if s == "" {
		s = "(empty body)"
	}
	return s
}
