package api

import (
	"errors"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/gin-gonic/gin"

	"pingan/internal/errs"
)

func init() { gin.SetMode(gin.TestMode) }

type sample struct {
	Name  *string `json:"name"`
	Count *int    `json:"count"`
	Tags  []string
}

// FuzzDecodeStrict: any body decodes or is refused with ErrInvalid naming a field.
func FuzzDecodeStrict(f *testing.F) {
	for _, s := range []string{`{"name":"a","count":1}`, `{"name":1}`, `{"x":1}`, `{}{}`, `[`, ``, `{"Tags":["a"]}`, "{\"name\":\"\xff\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v sample
		err := decodeStrict(data, &v)
		if err == nil {
			return
		}
		var fe errs.FieldErrors
		if !errors.As(err, &fe) || len(fe) == 0 {
			t.Fatalf("error without field: %v", err)
		}
	})
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
