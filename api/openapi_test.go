package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/gin-gonic/gin"

	"pingan/api"
)

// specPath is openapi.yaml, relative to this package's directory (where
// go test runs).
const specPath = "../openapi.yaml"

// spec is openapi.yaml, loaded and validated once for the whole package.
var spec struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

// loadSpec returns the validated document and its router, or fails the test
// when openapi.yaml does not load or is not a valid OpenAPI document.
func loadSpec(t testing.TB) (*openapi3.T, routers.Router) {
	t.Helper()
	spec.once.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromFile(specPath)
		if err != nil {
			spec.err = fmt.Errorf("load %s: %w", specPath, err)
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			spec.err = fmt.Errorf("%s is not a valid OpenAPI document: %w", specPath, err)
			return
		}
		router, err := gorillamux.NewRouter(doc)
		if err != nil {
			spec.err = fmt.Errorf("route table of %s: %w", specPath, err)
			return
		}
		spec.doc, spec.router = doc, router
	})
	if spec.err != nil {
		t.Fatal(spec.err)
	}
	return spec.doc, spec.router
}

// validateAgainstSpec checks one recorded response against openapi.yaml: the
// route (method and path) must be documented, the status must be documented
// for that operation, and the headers and body must match its schema. Only
// the response is checked, so req's body may already have been read.
//
// A request to a path or method the router does not have is accepted only
// as a 404 or 405 whose body is the Error schema (gin's NoRoute and NoMethod
// answers). Mismatches are reported with t.Errorf, so a test goes on.
func validateAgainstSpec(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	doc, router := loadSpec(t)
	what := fmt.Sprintf("%s %s → %d", req.Method, req.URL.Path, status)

	if header == nil {
		header = http.Header{}
	}
	if strings.EqualFold(header.Get("Content-Encoding"), "gzip") && len(body) > 0 {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err == nil {
			body, err = io.ReadAll(zr)
		}
		if err != nil {
			t.Errorf("openapi: %s: the body says gzip but does not decompress: %v", what, err)
			return
		}
		header = header.Clone()
		header.Del("Content-Encoding")
	}

	route, pathParams, err := router.FindRoute(req)
	if err != nil {
		validateUnrouted(t, doc, what, err, status, header, body)
		return
	}

	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: pathParams,
			Route:      route,
		},
		Status: status,
		Header: header,
		Body:   io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{
			AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}
	input.Options.WithCustomSchemaErrorFunc(schemaErrorMessage)
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		t.Errorf("openapi: %s (operation %s) does not match %s:\n%v\nresponse body: %s",
			what, route.Operation.OperationID, specPath, err, excerpt(body))
	}
}

// notRoutedCodes are the error codes of gin's NoRoute and NoMethod answers.
var notRoutedCodes = map[int]string{
	http.StatusNotFound:         "not_found",
	http.StatusMethodNotAllowed: "method_not_allowed",
}

// validateUnrouted handles a request whose path or method openapi.yaml does
// not have: only a 404 or 405 with the Error body is right.
func validateUnrouted(t testing.TB, doc *openapi3.T, what string, routeErr error, status int, header http.Header, body []byte) {
	t.Helper()
	wantCode, ok := notRoutedCodes[status]
	if !ok {
		reason := "its path is not documented"
		if errors.Is(routeErr, routers.ErrMethodNotAllowed) {
			reason = "its method is not documented for this path"
		}
		t.Errorf("openapi: %s: %s in %s, yet the server answered %d (a route missing from the document?); body: %s",
			what, reason, specPath, status, excerpt(body))
		return
	}
	if ct := header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		t.Errorf("openapi: %s (no such route): Content-Type %q, want application/json; body: %s", what, ct, excerpt(body))
		return
	}
	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		t.Errorf("openapi: %s (no such route): body is not JSON: %v; body: %s", what, err, excerpt(body))
		return
	}
	schema := doc.Components.Schemas["Error"]
	if schema == nil || schema.Value == nil {
		t.Errorf("openapi: %s has no components/schemas/Error", specPath)
		return
	}
	if err := schema.Value.VisitJSON(value, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors(),
		openapi3.VisitAsResponse(), openapi3.SetSchemaErrorMessageCustomizer(schemaErrorMessage)); err != nil {
		t.Errorf("openapi: %s (no such route): body does not match the Error schema:\n%v\nresponse body: %s", what, err, excerpt(body))
		return
	}
	if code := value.(map[string]any)["error"].(map[string]any)["code"]; code != wantCode {
		t.Errorf("openapi: %s (no such route): error code %v, want %q", what, code, wantCode)
	}
}

// schemaErrorMessage is a schema error without the schema and value dumps
// kin-openapi adds by default: where in the body, and what is wrong.
func schemaErrorMessage(e *openapi3.SchemaError) string {
	if e.Reason == "" {
		return ""
	}
	return fmt.Sprintf("at %q: %s", "/"+strings.Join(e.JSONPointer(), "/"), e.Reason)
}

func excerpt(body []byte) string {
	const max = 600
	if len(body) > max {
		return string(body[:max]) + "…"
	}
	return string(body)
}

// ginParam is a gin path parameter (:name or *name).
var ginParam = regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)

func TestOpenAPIRoutes(t *testing.T) {
	engine := newEnv(t, "sqlite").app.Handler.(*gin.Engine)
	inRouter := map[string]bool{}
	for _, r := range engine.Routes() {
		inRouter[r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}")] = true
	}

	doc, _ := loadSpec(t)
	inSpec := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			inSpec[strings.ToUpper(method)+" "+path] = true
		}
	}

	var notDocumented, notRouted []string
	for k := range inRouter {
		if !inSpec[k] {
			notDocumented = append(notDocumented, k)
		}
	}
	for k := range inSpec {
		if !inRouter[k] {
			notRouted = append(notRouted, k)
		}
	}
	sort.Strings(notDocumented)
	sort.Strings(notRouted)
	if len(notDocumented) > 0 {
		t.Errorf("routes in api/router.go missing from openapi.yaml:\n  %s", strings.Join(notDocumented, "\n  "))
	}
	if len(notRouted) > 0 {
		t.Errorf("operations in openapi.yaml that api/router.go does not have:\n  %s", strings.Join(notRouted, "\n  "))
	}
	if len(inRouter) == 0 {
		t.Error("the router has no routes")
	}
}

// publicRoutes need no access token.
var publicRoutes = map[string]bool{
	"POST /api/v1/auth/login":   true,
	"POST /api/v1/auth/refresh": true,
	"POST /api/v1/auth/logout":  true,
	"GET /healthz":              true,
	"GET /readyz":               true,
	"GET /metrics":              true,
}

// probeRoutes are the operational probes, which answer no 4xx of their own.
var probeRoutes = map[string]bool{
	"GET /healthz": true,
	"GET /readyz":  true,
	"GET /metrics": true,
}

func TestOpenAPIDocumentValid(t *testing.T) {
	doc, _ := loadSpec(t)
	if !doc.IsOpenAPI31OrLater() || doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi is %q, want 3.1.0", doc.OpenAPI)
	}
	if doc.Info == nil || doc.Info.Title != "pingan" || doc.Info.Version != "0.1.0" || doc.Info.Description == "" {
		t.Errorf("info must have title pingan, version 0.1.0 and a description")
	}
	scheme := doc.Components.SecuritySchemes["bearerAuth"]
	if scheme == nil || scheme.Value == nil || scheme.Value.Type != "http" ||
		!strings.EqualFold(scheme.Value.Scheme, "bearer") || scheme.Value.BearerFormat != "JWT" {
		t.Errorf("components/securitySchemes/bearerAuth must be an http bearer JWT scheme")
	}

	paths := doc.Paths.Map()
	keys := make([]string, 0, len(paths))
	for p := range paths {
		keys = append(keys, p)
	}
	sort.Strings(keys)
	ids := map[string]string{}
	for _, path := range keys {
		ops := paths[path].Operations()
		methods := make([]string, 0, len(ops))
		for m := range ops {
			methods = append(methods, m)
		}
		sort.Strings(methods)
		for _, method := range methods {
			op := ops[method]
			name := strings.ToUpper(method) + " " + path
			switch {
			case op.OperationID == "":
				t.Errorf("%s has no operationId", name)
			case ids[op.OperationID] != "":
				t.Errorf("%s and %s share operationId %s", ids[op.OperationID], name, op.OperationID)
			default:
				ids[op.OperationID] = name
			}
			if strings.TrimSpace(op.Summary) == "" {
				t.Errorf("%s has no summary", name)
			}
			if op.Responses == nil || op.Responses.Len() == 0 {
				t.Errorf("%s documents no responses", name)
				continue
			}
			if !probeRoutes[name] && !slices.ContainsFunc(slices.Collect(maps.Keys(op.Responses.Map())), is4xx) {
				t.Errorf("%s documents no 4xx response", name)
			}
			if op.Responses.Status(http.StatusInternalServerError) == nil {
				t.Errorf("%s does not document 500", name)
			}

			security := doc.Security
			if op.Security != nil {
				security = *op.Security
			}
			bearer := slices.ContainsFunc(security, func(r openapi3.SecurityRequirement) bool {
				_, ok := r["bearerAuth"]
				return ok
			})
			switch {
			case publicRoutes[name] && len(security) != 0:
				t.Errorf("%s must have security: [] (it needs no token)", name)
			case strings.HasPrefix(path, "/api/v1/") && !publicRoutes[name] && !bearer:
				t.Errorf("%s must require bearerAuth", name)
			}
			if !publicRoutes[name] && op.Responses.Status(http.StatusUnauthorized) == nil {
				t.Errorf("%s needs a token but does not document 401", name)
			}
		}
	}

	for _, name := range []string{"Error", "User", "TokenResponse", "Region", "RegionDetail", "RegionPage",
		"UserPage", "Category", "CategoryList", "Readiness", "ImportResult"} {
		if doc.Components.Schemas[name] == nil {
			t.Errorf("components/schemas/%s is missing", name)
		}
	}
}

func is4xx(status string) bool { return len(status) == 3 && status[0] == '4' }

// recordingTB records Errorf calls instead of failing the test.
type recordingTB struct {
	testing.TB
	errors []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestOpenAPIValidatorCatchesMismatches(t *testing.T) {
	jsonHeader := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	// A region or an account answers with the ETag of its content.
	tagged := http.Header{"Content-Type": {"application/json; charset=utf-8"}, "Etag": {`"0123456789abcdef0123456789abcdef"`}}
	region := func(drop string, set map[string]any) []byte {
		m := map[string]any{
			"code": "370502", "name": "东营区", "level": "county", "parent_code": "370500", "population": 830000,
			"centroid": map[string]any{"lat": 37.46, "lng": 118.58},
			"boundary": map[string]any{"type": "Polygon",
				"coordinates": [][][]float64{{{118.5, 37.4}, {118.7, 37.4}, {118.7, 37.5}, {118.5, 37.4}}}},
		}
		delete(m, drop)
		for k, v := range set {
			m[k] = v
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	errorBody := func(code string) []byte {
		return []byte(`{"error":{"code":"` + code + `","message":"x"}}`)
	}

	cases := []struct {
		name          string
		method, path  string
		status        int
		header        http.Header
		body          []byte
		wantRejection bool
		// mention, when set, must appear in the rejection.
		mention string
	}{
		{"good region", "GET", "/api/v1/regions/370502", 200, tagged, region("", nil), false, ""},
		{"root region with nulls", "GET", "/api/v1/regions/370500", 200, tagged,
			region("", map[string]any{"parent_code": nil, "centroid": nil, "boundary": nil, "level": "city"}), false, ""},
		{"region without name", "GET", "/api/v1/regions/370502", 200, tagged, region("name", nil), true, `"name"`},
		{"region without boundary on the single GET", "GET", "/api/v1/regions/370502", 200, tagged, region("boundary", nil), true, "boundary"},
		{"region with a bad level", "GET", "/api/v1/regions/370502", 200, tagged,
			region("", map[string]any{"level": "province"}), true, "level"},
		{"region with a numeric parent_code", "GET", "/api/v1/regions/370502", 200, tagged,
			region("", map[string]any{"parent_code": 370500}), true, "parent_code"},
		{"region with an undocumented field", "GET", "/api/v1/regions/370502", 200, tagged,
			region("", map[string]any{"path": "/370500/370502/"}), true, "path"},
		{"region without ETag", "GET", "/api/v1/regions/370502", 200, jsonHeader, region("", nil), true, "ETag"},
		{"undocumented status", "GET", "/api/v1/regions/370502", 418, jsonHeader, errorBody("internal"), true, "status is not supported"},
		{"404 with the wrong code", "GET", "/api/v1/regions/370502", 404, jsonHeader, errorBody("conflict"), true, ""},
		{"documented 404", "GET", "/api/v1/regions/370502", 404, jsonHeader, errorBody("not_found"), false, ""},
		{"no such route", "GET", "/api/v1/nowhere", 404, jsonHeader, errorBody("not_found"), false, ""},
		{"no such route with a bad body", "GET", "/api/v1/nowhere", 404, jsonHeader, []byte(`{"message":"nope"}`), true, ""},
		{"no such route answered 200", "GET", "/api/v1/nowhere", 200, jsonHeader, []byte(`{}`), true, ""},
		{"no such method", "DELETE", "/api/v1/regions", 405, jsonHeader, errorBody("method_not_allowed"), false, ""},
		{"429 without Retry-After", "POST", "/api/v1/auth/login", 429, jsonHeader, errorBody("rate_limited"), true, "Retry-After"},
		{"429 with Retry-After", "POST", "/api/v1/auth/login", 429,
			http.Header{"Content-Type": {"application/json; charset=utf-8"}, "Retry-After": {"30"}},
			[]byte(`{"error":{"code":"rate_limited","message":"x","details":{"retry_after_seconds":30}}}`), false, ""},
		{"logout 204", "POST", "/api/v1/auth/logout", 204, http.Header{}, nil, false, ""},
		{"empty page", "GET", "/api/v1/regions?level=grid", 200, jsonHeader, []byte(`{"items":[],"next_cursor":null}`), false, ""},
		{"page without next_cursor", "GET", "/api/v1/regions", 200, jsonHeader, []byte(`{"items":[]}`), true, "next_cursor"},
		{"user with a bad time", "GET", "/api/v1/me", 200, tagged, []byte(`{"id":"0190a6a2-7c1e-7cde-8a3b-1234567890ab",` +
			`"username":"admin","name":"A","phone":"","role":"admin","region_code":"370500","active":true,` +
			`"created_at":"yesterday","updated_at":"2026-01-02T03:04:05Z"}`), true, "created_at"},
		{"good user", "GET", "/api/v1/me", 200, tagged, []byte(`{"id":"0190a6a2-7c1e-7cde-8a3b-1234567890ab",` +
			`"username":"admin","name":"A","phone":"138****5678","role":"admin","region_code":"370500","active":true,` +
			`"created_at":"2026-01-02T03:04:05Z","updated_at":"2026-01-02T03:04:05.123456Z"}`), false, ""},
		{"readiness down", "GET", "/readyz", 503, jsonHeader,
			[]byte(`{"status":"unavailable","checks":{"db":"unavailable","blob":"ok"}}`), false, ""},
		{"metrics", "GET", "/metrics", 200, http.Header{"Content-Type": {"text/plain; version=0.0.4; charset=utf-8"}},
			[]byte("# HELP x y\n"), false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recordingTB{TB: t}
			// The body has been read, as it would be after the handler ran.
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(`{"consumed":true}`))
			_, _ = io.ReadAll(req.Body)
			validateAgainstSpec(rec, req, tc.status, tc.header, tc.body)
			switch {
			case tc.wantRejection && len(rec.errors) == 0:
				t.Errorf("validateAgainstSpec accepted a response it should reject: %d %s", tc.status, tc.body)
			case !tc.wantRejection && len(rec.errors) > 0:
				t.Errorf("validateAgainstSpec rejected a correct response:\n%s", strings.Join(rec.errors, "\n"))
			case tc.wantRejection && !strings.Contains(strings.Join(rec.errors, "\n"), tc.mention):
				t.Errorf("the rejection does not mention %s:\n%s", tc.mention, strings.Join(rec.errors, "\n"))
			case tc.wantRejection:
				t.Logf("rejected as expected: %s", strings.Join(rec.errors, "\n"))
			}
		})
	}
}

// TestNewRefusesMissingDependencies: the router is built with every service
// it calls, or not at all.
func TestNewRefusesMissingDependencies(t *testing.T) {
	defer func() {
		if got := recover(); got != `api.New: missing dependency "Auth"` {
			t.Fatalf("api.New without dependencies: %v", got)
		}
	}()
	api.New(api.Deps{})
}
