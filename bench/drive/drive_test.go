package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeServer stands in for the API (withAPI) or the raw floor, checking
// what the driver sends.
type fakeServer struct {
	mu       sync.Mutex
	keys     map[string]bool
	dupKeys  int
	badAuth  int
	regions  map[string]int
	noIncAPI bool // answer 404 for /api/v1/incidents, as a build without the incident API does
}

func (f *fakeServer) handler(t *testing.T) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/auth/login", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Username, Password string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Password != "pingan-demo" {
			http.Error(w, `{"error":{"code":"unauthenticated"}}`, http.StatusUnauthorized)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"access_token": "tok-" + body.Username, "token_type": "Bearer"})
	})
	incidents := func(prefix string) {
		mux.HandleFunc("POST "+prefix, func(w http.ResponseWriter, r *http.Request) {
			if f.noIncAPI {
				http.Error(w, `{"error":{"code":"not_found","message":"not found"}}`, http.StatusNotFound)
				return
			}
			var body map[string]any
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body["category"] != "public_order" {
				http.Error(w, "bad body", http.StatusBadRequest)
				return
			}
			f.mu.Lock()
			if strings.HasPrefix(prefix, "/api") {
				key := r.Header.Get("Idempotency-Key")
				if f.keys[key] || key == "" {
					f.dupKeys++
				}
				f.keys[key] = true
				if r.Header.Get("Authorization") != "Bearer tok-demo-gridworker" {
					f.badAuth++
				}
			}
			f.mu.Unlock()
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"id":"x"}`))
		})
		mux.HandleFunc("GET "+prefix, func(w http.ResponseWriter, r *http.Request) {
			if f.noIncAPI {
				http.Error(w, `{"error":{"code":"not_found","message":"not found"}}`, http.StatusNotFound)
				return
			}
			region := r.URL.Query().Get("region") + r.URL.Query().Get("township")
			f.mu.Lock()
			f.regions[region]++
			if strings.HasPrefix(prefix, "/api") && r.Header.Get("Authorization") != "Bearer tok-demo-supervisor" {
				f.badAuth++
			}
			f.mu.Unlock()
			w.Write([]byte(`{"items":[{"id":"a"}],"next_cursor":null}`))
		})
	}
	incidents("/api/v1/incidents")
	incidents("/incidents")
	return mux
}

func newFake(t *testing.T, noIncAPI bool) (*fakeServer, *httptest.Server) {
	f := &fakeServer{keys: map[string]bool{}, regions: map[string]int{}, noIncAPI: noIncAPI}
	s := httptest.NewServer(f.handler(t))
	t.Cleanup(s.Close)
	return f, s
}

func testOptions(mode, api, raw, user string) options {
	return options{
		mode: mode, api: api, raw: raw, user: user, password: "pingan-demo",
		workers: 4, rounds: 2, duration: 300 * time.Millisecond, fixedDuration: 300 * time.Millisecond, readRate: 50,
		ingestTarget: 0.7, readTarget: 0.6, ingestP99: 50, readP99: 25, rssTargetMB: 150,
	}
}

func TestIngestMeasuresBothSides(t *testing.T) {
	api, apiSrv := newFake(t, false)
	_, rawSrv := newFake(t, false)
	rep := run(context.Background(), testOptions("ingest", apiSrv.URL, rawSrv.URL, "demo-gridworker"))

	if !rep.Complete || rep.API.Skipped != "" || rep.Raw.Skipped != "" {
		t.Fatalf("incomplete report: api %q raw %q", rep.API.Skipped, rep.Raw.Skipped)
	}
	for _, s := range []Side{rep.Raw, rep.API} {
		if s.Max == nil || s.Max.OK == 0 || s.Max.SuccessRatio != 1 || s.Fixed == nil || s.Fixed.OK == 0 {
			t.Fatalf("%s: phases %+v %+v", s.Name, s.Max, s.Fixed)
		}
		if len(s.Rounds) != 2 || s.Max.Throughput != max(s.Rounds[0], s.Rounds[1]) {
			t.Errorf("%s: rounds %v, max %.1f: want two rounds and the best as max", s.Name, s.Rounds, s.Max.Throughput)
		}
		if want := max(1, int(s.Max.Throughput/2)); s.Fixed.RequestedRate != want {
			t.Errorf("%s: fixed rate %d, want half of %.1f", s.Name, s.Fixed.RequestedRate, s.Max.Throughput)
		}
	}
	if rep.Ratio == nil || len(rep.Checks) != 2 {
		t.Fatalf("ratio %v, checks %+v", rep.Ratio, rep.Checks)
	}
	if api.dupKeys != 0 || api.badAuth != 0 {
		t.Errorf("API saw %d missing or repeated idempotency keys and %d bad tokens", api.dupKeys, api.badAuth)
	}
}

func TestReadRotatesTownships(t *testing.T) {
	api, apiSrv := newFake(t, false)
	_, rawSrv := newFake(t, false)
	rep := run(context.Background(), testOptions("read", apiSrv.URL, rawSrv.URL, "demo-supervisor"))

	if !rep.Complete || rep.Ratio == nil {
		t.Fatalf("incomplete: api %q raw %q", rep.API.Skipped, rep.Raw.Skipped)
	}
	if rep.API.Fixed.RequestedRate != 50 {
		t.Errorf("fixed rate %d, want 50", rep.API.Fixed.RequestedRate)
	}
	if len(api.regions) != 30 || api.badAuth != 0 {
		t.Errorf("API was asked for %d townships (want all 30), %d bad tokens", len(api.regions), api.badAuth)
	}
}

func TestMissingIncidentAPIIsReported(t *testing.T) {
	_, apiSrv := newFake(t, true)
	_, rawSrv := newFake(t, false)
	rep := run(context.Background(), testOptions("ingest", apiSrv.URL, rawSrv.URL, "demo-gridworker"))

	if rep.Complete {
		t.Fatal("complete, want incomplete when the API answers 404")
	}
	if !strings.Contains(rep.API.Skipped, "404") || !strings.Contains(rep.API.Skipped, "no incident API") {
		t.Errorf("skipped reason %q does not say the incident API is missing", rep.API.Skipped)
	}
	if rep.Raw.Max == nil || rep.Raw.Max.OK == 0 {
		t.Error("the raw floor was not measured")
	}
	for _, c := range rep.Checks {
		if c.Result != "SKIP" {
			t.Errorf("check %q is %s, want SKIP", c.Name, c.Result)
		}
	}
}

func TestLoopbackOnly(t *testing.T) {
	for u, ok := range map[string]bool{
		"http://127.0.0.1:8080": true, "http://localhost:1": true, "http://[::1]:80": true,
		"http://10.0.0.1:8080": false, "http://example.com": false,
	} {
		if err := loopbackOnly(u); (err == nil) != ok {
			t.Errorf("loopbackOnly(%s) = %v", u, err)
		}
	}
}
