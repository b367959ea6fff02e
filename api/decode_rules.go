package api

// The rules a request type's fields carry for the strict decoder
// (decode.go): their JSON names, array limits (the max tag) and the form
// a wrong value is told to take.

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// unknownField says so, pointing at the field a key differs from only in
// case: keys match exactly.
func unknownField(name string, fields map[string]fieldRule) string {
	for known := range fields {
		if strings.EqualFold(known, name) {
			return fmt.Sprintf("unknown field; keys are case-sensitive: did you mean %q?", known)
		}
	}
	return "unknown field"
}

// fieldRule is what a request field takes: its type, and from its tags the
// most items an array holds (`max:"20"`) and the form a client reads when
// the value is wrong (`expect:"an integer number of fen"`).
type fieldRule struct {
	typ    reflect.Type
	index  []int
	ord    int // the field's place among its struct's, for telling keys given twice
	max    int
	expect string
}

func (f fieldRule) maxItems() int {
	if f.max > 0 {
		return f.max
	}
	return defaultMaxItems
}

// form is the form a value of type t takes, as a client reads it.
func (f fieldRule) form(t reflect.Type) string {
	if f.expect != "" {
		return f.expect
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		return timeForm
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer ≥ 0"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return fmt.Sprintf("an array of at most %d items", f.maxItems())
	}
	return "an object"
}

// fieldCache holds each request type's fields by JSON name.
var fieldCache sync.Map // reflect.Type → map[string]fieldRule

// fieldsOf returns t's fields by their JSON names, as encoding/json names
// them: the json tag's name or the Go name, "-" left out, the fields of an
// embedded struct without a name promoted (the outer struct's win).
func fieldsOf(t reflect.Type) map[string]fieldRule {
	if v, ok := fieldCache.Load(t); ok {
		return v.(map[string]fieldRule)
	}
	out := map[string]fieldRule{}
	var promoted []reflect.StructField
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if tag == "-" || (!sf.IsExported() && !sf.Anonymous) {
			continue
		}
		ft := sf.Type
		if sf.Anonymous && name == "" {
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				promoted = append(promoted, sf)
				continue
			}
			if !sf.IsExported() {
				continue
			}
		}
		if name == "" {
			name = sf.Name
		}
		rule := fieldRule{typ: sf.Type, index: []int{i}, expect: sf.Tag.Get("expect")}
		if m := sf.Tag.Get("max"); m != "" {
			n, err := strconv.Atoi(m)
			if err != nil || n < 1 {
				panic(fmt.Sprintf("api: %s.%s: max tag %q is not a count", t.Name(), sf.Name, m))
			}
			rule.max = n
		}
		out[name] = rule
	}
	for _, sf := range promoted {
		ft := sf.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		for name, rule := range fieldsOf(ft) {
			if _, ok := out[name]; !ok {
				rule.index = append([]int{sf.Index[0]}, rule.index...)
				out[name] = rule
			}
		}
	}
	if len(out) > 64 {
		panic(fmt.Sprintf("api: %s has more than 64 fields", t.Name()))
	}
	names := make([]string, 0, len(out))
	for name := range out {
		names = append(names, name)
	}
	sort.Strings(names)
	for i, name := range names {
		rule := out[name]
		rule.ord = i
		out[name] = rule
	}
	v, _ := fieldCache.LoadOrStore(t, out)
	return v.(map[string]fieldRule)
}
