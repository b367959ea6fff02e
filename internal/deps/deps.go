// Package deps checks that a constructor was given every dependency it
// needs. Services take their dependencies as parameters, so that leaving
// one out does not compile; Require refuses the nil that compiles anyway,
// at start-up and naming it, instead of at the first request that uses it.
package deps

import (
	"fmt"
	"reflect"
)

// Require panics with "<constructor>: missing dependency "<name>"" for the
// first nil value among pairs of name and value: a nil interface, or a nil
// pointer, function, map, channel or slice inside one. A wiring mistake is
// a programming error, so it panics rather than returning an error.
func Require(constructor string, pairs ...any) {
	if len(pairs)%2 != 0 {
		panic(fmt.Sprintf("%s: deps.Require takes name, value pairs", constructor))
	}
	for i := 0; i < len(pairs); i += 2 {
		if Missing(pairs[i+1]) {
			panic(fmt.Sprintf("%s: missing dependency %q", constructor, pairs[i]))
		}
	}
}

// Missing reports whether v is nil or holds a nil pointer, function, map,
// channel, slice or interface. Other values, zero or not, are present.
func Missing(v any) bool {
	if v == nil {
		return true
	}
	switch r := reflect.ValueOf(v); r.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Map, reflect.Chan, reflect.Slice, reflect.Interface, reflect.UnsafePointer:
		return r.IsNil()
	}
	return false
}
