package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"pingan/internal/errs"
)

func init() { gin.SetMode(gin.TestMode) }

type sample struct {
	Name   *string         `json:"name"`
	Count  *int            `json:"count"`
	Tags   []string        `max:"3"`
	Amount *int64          `json:"amount" expect:"an integer number of fen"`
	At     *time.Time      `json:"at"`
	Items  []sampleItem    `json:"items" max:"2"`
	Ratio  *float64        `json:"ratio"`
	Flag   *bool           `json:"flag"`
	Raw    json.RawMessage `json:"raw"`
	sampleEmbedded
}

type sampleItem struct {
	Role *string `json:"role"`
	Byte *uint8  `json:"byte"`
}

type sampleEmbedded struct {
	Note *string `json:"note"`
}

// strictSeeds are bodies the strict decoder must refuse or take, as the
// issue's examples found them (#12 parts 2, 3 and 6).
var strictSeeds = []string{
	`{"name":"a","count":1}`, `{"name":1}`, `{"x":1}`, `{}{}`, `[`, ``, `{"Tags":["a"]}`, "{\"name\":\"\xff\"}",
	`{"name":"a","name":"b"}`, `{"Name":"a"}`, `{"items":[{},{},{}]}`, `{"items":[{"role":"x","Role":"y"}]}`,
	`{"at":"2026-11-29 10:00:00"}`, `{"at":"0001-01-01T00:00:00Z"}`, `{"amount":12.5}`, `{"amount":1e3}`,
	`{"amount":99999999999999999999}`, `{"ratio":1e400}`, `{"items":[{"byte":256}]}`, `{"raw":{"a":1,"a":2}}`,
	`{"note":"n","flag":"yes"}`, `{"Tags":[1,2,3,4,5]}`, `{"items":` + strings.Repeat("[", 20000) + `}`,
	`{"name":null,"items":null,"Tags":null}`, `{"name":"a"} x`, `{"count":-0}`, `{"count":1.0}`,
}

// FuzzDecodeStrict: any body decodes or is refused with ErrInvalid naming a
// field, at most errs.MaxFieldErrors of them; a body that decodes is read
// as encoding/json reads it, and has no unknown key.
func FuzzDecodeStrict(f *testing.F) {
	for _, s := range strictSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v sample
		err := decodeStrict(data, &v)
		if err == nil {
			// What it takes, it reads as encoding/json does.
			var want sample
			if err := json.Unmarshal(data, &want); err != nil || !reflect.DeepEqual(v, want) {
				t.Fatalf("%q: read %+v, encoding/json %+v (%v)", data, v, want, err)
			}
			var keys map[string]json.RawMessage
			if json.Unmarshal(data, &keys) != nil {
				t.Fatalf("took a body that is not an object: %q", data)
			}
			for k := range keys {
				if _, ok := fieldsOf(reflect.TypeFor[sample]())[k]; !ok {
					t.Fatalf("took an unknown key %q", k)
				}
			}
			return
		}
		var fe errs.FieldErrors
		if !errors.As(err, &fe) || len(fe.Fields()) == 0 || len(fe.Fields()) > errs.MaxFieldErrors {
			t.Fatalf("error without field, or too many: %v", err)
		}
	})
}

// TestDecodeStrict: each problem is named by its field with the form
// expected, never with the decoder's own text.
func TestDecodeStrict(t *testing.T) {
	const timeForm = "an RFC 3339 time with offset, e.g. 2026-11-27T09:30:00+08:00"
	for _, c := range []struct {
		body string
		want map[string]string // nil: decodes
	}{
		{`{"name":"a","count":1,"items":[{"role":"r"}],"note":"n","raw":{"a":1,"a":2}}`, nil},
		{`{"name":null,"items":null}`, nil},
		{`{"at":"2026-11-27T09:30:00+08:00","amount":-5,"ratio":1.5e3,"flag":false}`, nil},
		{`{"name":"a","name":"b"}`, map[string]string{"name": "given more than once"}},
		{`{"Name":"a"}`, map[string]string{"Name": `unknown field; keys are case-sensitive: did you mean "name"?`}},
		{`{"tags":["a"]}`, map[string]string{"tags": `unknown field; keys are case-sensitive: did you mean "Tags"?`}},
		{`{"x":[[[[1]]]]}`, map[string]string{"x": "unknown field"}},
		{`{"items":[{},{},{}]}`, map[string]string{"items": "at most 2 items"}},
		{`{"items":[{"Role":"y"}]}`, map[string]string{"items[0].Role": `unknown field; keys are case-sensitive: did you mean "role"?`}},
		{`{"items":[{"byte":256}]}`, map[string]string{"items[0].byte": "an integer ≥ 0"}},
		{`{"items":{"role":"x"}}`, map[string]string{"items": "an array of at most 2 items"}},
		{`{"at":"2026-11-29 10:00:00"}`, map[string]string{"at": timeForm}},
		{`{"at":1764000000}`, map[string]string{"at": timeForm}},
		{`{"amount":12.5}`, map[string]string{"amount": "an integer number of fen"}},
		{`{"amount":"12"}`, map[string]string{"amount": "an integer number of fen"}},
		{`{"amount":99999999999999999999}`, map[string]string{"amount": "an integer number of fen"}},
		{`{"count":1.0}`, map[string]string{"count": "an integer"}},
		{`{"ratio":1e400}`, map[string]string{"ratio": "a number"}},
		{`{"flag":"yes","note":7}`, map[string]string{"flag": "true or false", "note": "a string"}},
		{`{"Tags":[1,"a",{}]}`, map[string]string{"Tags[0]": "a string", "Tags[2]": "a string"}},
		{`{"name":"a"}{}`, map[string]string{"body": "exactly one JSON object is expected"}},
		{`{"name":"a"} x`, map[string]string{"body": "malformed JSON at byte 13"}},
		{`{"name":`, map[string]string{"body": "truncated JSON"}},
		{`[1]`, map[string]string{"body": "a JSON object is required"}},
		{` `, map[string]string{"body": "a JSON object is required"}},
		{`{"x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, map[string]string{"x": "unknown field"}},
		{`{"raw":` + strings.Repeat("[", 20000) + `}`, map[string]string{"body": "JSON nested too deeply at byte 10006"}},
		{`{"Tags":` + strings.Repeat("[", 20000) + `}`, map[string]string{"Tags[0]": "a string"}},
	} {
		var v sample
		err := decodeStrict([]byte(c.body), &v)
		if c.want == nil {
			if err != nil {
				t.Errorf("%.60s: %v", c.body, err)
			}
			continue
		}
		var fe errs.FieldErrors
		if !errors.As(err, &fe) || !maps.Equal(fe.Fields(), c.want) {
			t.Errorf("%.60s: %v; want %v", c.body, err, c.want)
		}
	}
	// What decodes is what encoding/json reads, embedded fields too.
	var v sample
	if err := decodeStrict([]byte(`{"note":"n","items":[{"role":"r"}],"at":"2026-11-27T09:30:00+08:00"}`), &v); err != nil ||
		v.Note == nil || *v.Note != "n" || len(v.Items) != 1 || *v.Items[0].Role != "r" || v.At.Hour() != 9 {
		t.Fatalf("%+v, %v", v, err)
	}
}

// TestDecodeStrictStopsAt50: a body with many problems names 50 and says
// there were more, whatever their number.
func TestDecodeStrictStopsAt50(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range 100_000 {
		fmt.Fprintf(&b, `"k%d":1,`, i)
	}
	b.WriteString(`"name":"a"}`)
	var v sample
	err := decodeStrict([]byte(b.String()), &v)
	var fe errs.FieldErrors
	if !errors.As(err, &fe) || len(fe.Fields()) != errs.MaxFieldErrors || !fe.More() {
		t.Fatalf("%d fields, more %v: %.200v", len(fe.Fields()), fe.More(), err)
	}
}

// FuzzCursor: only cursors this server made decode; nothing panics.
func FuzzCursor(f *testing.F) {
	k := cursors{key: []byte("0123456789abcdef0123456789abcdef")}
	f.Add(k.encode("370502"))
	f.Add("forged")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		c := withQuery("cursor=" + url.QueryEscape(s))
		pos, err := k.decode(c)
		if err == nil && k.encode(pos) != c.Query("cursor") && c.Query("cursor") != "" {
			t.Fatalf("accepted a cursor it did not make: %q", s)
		}
	})
}

func withQuery(q string) *gin.Context {
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest("GET", "/?"+q, nil)
	return c
}

func TestCursorRoundTrip(t *testing.T) {
	k := cursors{key: []byte("0123456789abcdef0123456789abcdef")}
	if pos, err := k.decode(withQuery("cursor=" + k.encode("370502|x"))); err != nil || pos != "370502|x" {
		t.Fatalf("decode: %q, %v", pos, err)
	}
	other := cursors{key: []byte("another key of thirty-two bytes!")}
	if _, err := k.decode(withQuery("cursor=" + other.encode("370502|x"))); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("cursor of another key: %v", err)
	}
}
