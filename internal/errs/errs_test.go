package errs

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestFieldErrorsBounded: past MaxFieldErrors fields only "more" is kept,
// whatever the fields are named (an empty name too).
func TestFieldErrorsBounded(t *testing.T) {
	f := FieldErrors{}
	f.Add("", "unknown field")
	for i := range 10_000 {
		f.Add(fmt.Sprintf("items[%d].value", i), "a number")
	}
	if got := len(f.Fields()); got != MaxFieldErrors || !f.More() || !f.Full() {
		t.Fatalf("%d fields, more %v, full %v", got, f.More(), f.Full())
	}
	if f.Fields()[""] != "unknown field" || !errors.Is(f, ErrInvalid) || !strings.HasSuffix(f.Error(), "; and more") {
		t.Fatalf("%v", f)
	}
	g := FieldErrors{}
	g.Add("a", "first")
	g.Add("a", "second")
	if g.More() || g.Full() || g.Fields()["a"] != "first" || g.Error() != "invalid fields: a: first" {
		t.Fatalf("%v", g)
	}
}
