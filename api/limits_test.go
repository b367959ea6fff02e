package api

import (
	"context"
	"reflect"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"pingan/internal/dispute"
	"pingan/internal/indicator"
	"pingan/internal/intake"
)

// requestTypes are the JSON bodies of the routes, by the operation that
// documents them. (The sync batch is its own file's: its operations are
// bounded by the default limit, MaxSyncOperations.)
var requestTypes = []struct {
	method, path string
	body         any
}{
	{"POST", "/api/v1/auth/login", loginRequest{}},
	{"POST", "/api/v1/auth/refresh", refreshRequest{}},
	{"POST", "/api/v1/users", createUserRequest{}},
	{"PATCH", "/api/v1/users/{id}", patchUserRequest{}},
	{"POST", "/api/v1/categories", createCategoryRequest{}},
	{"PATCH", "/api/v1/categories/{kind}/{code}", patchCategoryRequest{}},
	{"POST", "/api/v1/incidents", createIncidentRequest{}},
	{"POST", "/api/v1/incidents/{id}/transitions", transitionRequest{}},
	{"POST", "/api/v1/disputes", createDisputeRequest{}},
	{"POST", "/api/v1/disputes/{id}/actions", disputeActionRequest{}},
	{"POST", "/api/v1/indicators", indicatorBody{}},
	{"PATCH", "/api/v1/indicators/{code}", indicatorBody{}},
	{"POST", "/api/v1/indicator-values", valuesRequest{}},
	{"POST", "/api/v1/index/recompute", recomputeRequest{}},
	{"POST", "/api/v1/service-accounts", accountRequest{}},
	{"POST", "/api/v1/uploads", createUploadRequest{}},
}

// TestEveryArrayHasItsLimit: every array of every request body declares
// its maximum (a max tag the decoder counts against) and openapi.yaml
// documents the same maxItems, and every field is documented (SPEC §6).
func TestEveryArrayHasItsLimit(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, rt := range requestTypes {
		item := doc.Paths.Find(rt.path)
		if item == nil || item.GetOperation(rt.method) == nil || item.GetOperation(rt.method).RequestBody == nil {
			t.Errorf("%s %s: no request body documented", rt.method, rt.path)
			continue
		}
		media := item.GetOperation(rt.method).RequestBody.Value.Content.Get("application/json")
		if media == nil {
			t.Errorf("%s %s: no application/json body documented", rt.method, rt.path)
			continue
		}
		checkLimits(t, rt.method+" "+rt.path+" ", reflect.TypeOf(rt.body), media.Schema.Value)
	}
}

// properties are a schema's properties, its allOf parts' included.
func properties(s *openapi3.Schema) openapi3.Schemas {
	out := openapi3.Schemas{}
	for _, part := range s.AllOf {
		for k, v := range properties(part.Value) {
			out[k] = v
		}
	}
	for k, v := range s.Properties {
		out[k] = v
	}
	return out
}

func checkLimits(t *testing.T, at string, typ reflect.Type, s *openapi3.Schema) {
	t.Helper()
	props := properties(s)
	for name, rule := range fieldsOf(typ) {
		where := at + name
		prop, ok := props[name]
		if !ok {
			t.Errorf("%s: not in openapi.yaml", where)
			continue
		}
		ft := rule.typ
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft == rawType || ft == timeType:
		case ft.Kind() == reflect.Slice:
			if rule.max == 0 {
				t.Errorf("%s: an array without a max tag", where)
			}
			if m := prop.Value.MaxItems; m == nil {
				t.Errorf("%s: no maxItems in openapi.yaml", where)
			} else if int(*m) != rule.max {
				t.Errorf("%s: max tag %d, openapi.yaml maxItems %d", where, rule.max, *m)
			}
			if el := ft.Elem(); el.Kind() == reflect.Struct && prop.Value.Items != nil {
				checkLimits(t, where+"[].", el, prop.Value.Items.Value)
			}
		case ft.Kind() == reflect.Struct:
			checkLimits(t, where+".", ft, prop.Value)
		}
	}
}

// TestLimitsAreTheDomains: the decoder's limits are the domain's, so that
// what passes the count is what the rules take.
func TestLimitsAreTheDomains(t *testing.T) {
	for _, c := range []struct {
		typ   any
		field string
		want  int
	}{
		{createDisputeRequest{}, "parties", dispute.MaxParties},
		{createDisputeRequest{}, "photo_ids", intake.MaxPhotos},
		{createIncidentRequest{}, "photo_ids", intake.MaxPhotos},
		{disputeActionRequest{}, "photo_ids", intake.MaxPhotos},
		{disputeActionRequest{}, "attendees", dispute.MaxAttendees},
		{valuesRequest{}, "items", indicator.MaxBatch},
		{filterBody{}, "categories", indicator.MaxFilterCategories},
	} {
		if got := fieldsOf(reflect.TypeOf(c.typ))[c.field].max; got != c.want {
			t.Errorf("%T.%s: max %d, the domain's %d", c.typ, c.field, got, c.want)
		}
	}
	if defaultMaxItems != MaxSyncOperations {
		t.Errorf("the default limit %d is the sync batch's %d", defaultMaxItems, MaxSyncOperations)
	}
}
