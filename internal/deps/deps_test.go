package deps

import (
	"context"
	"testing"
	"time"
)

type store interface {
	Find(ctx context.Context) error
}

type fake struct{}

func (fake) Find(context.Context) error { return nil }

type ptrFake struct{ n int }

func (*ptrFake) Find(context.Context) error { return nil }

func TestMissing(t *testing.T) {
	var (
		nilStore store
		nilPtr   *ptrFake
		nilFunc  func() time.Time
		nilMap   map[string]int
		nilLoc   *time.Location
	)
	for name, c := range map[string]struct {
		v    any
		want bool
	}{
		"nil interface":             {nilStore, true},
		"nil pointer in interface":  {store(nilPtr), true},
		"nil function":              {nilFunc, true},
		"nil map":                   {nilMap, true},
		"nil location":              {nilLoc, true},
		"zero-size value":           {fake{}, false},
		"value holding nil":         {struct{ store }{}, false},
		"pointer":                   {&ptrFake{}, false},
		"function":                  {time.Now, false},
		"location":                  {time.UTC, false},
		"zero number is a setting":  {0, false},
		"empty string is a setting": {"", false},
	} {
		if got := Missing(c.v); got != c.want {
			t.Errorf("%s: Missing = %v, want %v", name, got, c.want)
		}
	}
}

func TestRequire(t *testing.T) {
	refused := func(f func()) (msg any) {
		defer func() { msg = recover() }()
		f()
		return nil
	}
	if msg := refused(func() { Require("x.NewService", "store", fake{}, "now", time.Now) }); msg != nil {
		t.Fatalf("all given, refused: %v", msg)
	}
	var nilPtr *ptrFake
	if msg := refused(func() { Require("x.NewService", "store", fake{}, "cache", store(nilPtr), "now", nil) }); msg != `x.NewService: missing dependency "cache"` {
		t.Fatalf("refused with %v", msg)
	}
	if msg := refused(func() { Require("x.NewService", "store") }); msg != "x.NewService: deps.Require takes name, value pairs" {
		t.Fatalf("odd pairs: %v", msg)
	}
}
