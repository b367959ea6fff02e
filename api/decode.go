package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"pingan/internal/errs"
)

// The strict decoding of SPEC §6. A body is read twice: first its shape is
// checked against the request type, token by token, by checkShape; then,
// only when the shape is right, encoding/json fills the request. The check
// is what makes a body strict and cheap to refuse:
//
//   - keys match a field's JSON name exactly ({"Action": …} is an unknown
//     field, where encoding/json alone would take it for "action"), and a
//     key given twice is refused rather than the last one winning;
//   - an array is counted against its limit before its elements are looked
//     at: a field's `max:"N"` tag, defaultMaxItems without one. Past the
//     limit the check stops, so 1 MiB of [{},{},…] costs as little as 21;
//   - a value of the wrong type is named with the form expected (the
//     field's `expect:"…"` tag, else one by its type: an RFC 3339 time, an
//     integer, …), never with the decoder's own text, and is skipped
//     without being read into memory;
//   - at most errs.MaxFieldErrors problems are collected, then it stops.
//
// Whatever the body, the work is one pass over at most its bytes.

// defaultMaxItems bounds an array field that declares no `max` tag.
const defaultMaxItems = 100

// timeForm is what a time field takes (SPEC §6).
const timeForm = "an RFC 3339 time with offset, e.g. 2026-11-27T09:30:00+08:00"

// decodeStrict decodes data, one JSON object, into dst, a pointer to a
// request struct. Returns errs.FieldErrors naming every bad field (up to
// errs.MaxFieldErrors), or "body" for data that is not one JSON object.
func decodeStrict(data []byte, dst any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errs.Invalid("body", "a JSON object is required")
	}
	if err := checkShape(data, reflect.TypeOf(dst)); err != nil {
		return err
	}
	if err := json.Unmarshal(data, dst); err != nil {
		// checkShape lets through only what decodes; this is a last guard.
		return errs.Invalid("body", "malformed JSON")
	}
	return nil
}

// errStop ends a walk that has found enough: the errors collected are the
// answer.
var errStop = errors.New("enough problems found")

// shape walks a body's tokens against a request type.
type shape struct {
	dec *jsontext.Decoder
	bad errs.FieldErrors
}

// checkShape checks data against t (a pointer to a struct, or a struct).
func checkShape(data []byte, t reflect.Type) error {
	// Duplicates are checked here, by field, rather than by the tokenizer
	// everywhere: a raw value (a sync operation's body) is checked by the
	// decoding it is passed on to, so that its problems stay its own.
	w := &shape{dec: jsontext.NewDecoder(bytes.NewReader(data), jsontext.AllowDuplicateNames(true)), bad: errs.FieldErrors{}}
	switch w.dec.PeekKind() {
	case jsontext.KindBeginObject:
	case jsontext.KindInvalid:
		_, err := w.dec.ReadToken()
		return syntaxProblem(err)
	default:
		return errs.Invalid("body", "a JSON object is required")
	}
	err := w.value("", t, fieldRule{})
	if err == nil {
		// Exactly one value: what follows is another one, or garbage.
		switch _, err = w.dec.ReadToken(); {
		case errors.Is(err, io.EOF):
			err = nil
		case err == nil:
			return errs.Invalid("body", "exactly one JSON object is expected")
		}
	}
	if err != nil && !errors.Is(err, errStop) {
		return syntaxProblem(err)
	}
	return w.bad.Err()
}

// syntaxProblem names what is wrong with a body that is not JSON.
func syntaxProblem(err error) error {
	var se *jsontext.SyntacticError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errs.Invalid("body", "truncated JSON")
	case errors.As(err, &se) && se.Err != nil && strings.Contains(se.Err.Error(), "max depth"):
		return errs.Invalid("body", fmt.Sprintf("JSON nested too deeply at byte %d", se.ByteOffset))
	case errors.As(err, &se):
		return errs.Invalid("body", fmt.Sprintf("malformed JSON at byte %d", se.ByteOffset))
	}
	return errs.Invalid("body", "malformed JSON")
}

// add records a problem; errStop once there are more than can be named.
func (w *shape) add(path, msg string) error {
	w.bad.Add(path, msg)
	if w.bad.More() {
		return errStop
	}
	return nil
}

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// value checks the next value against t at path, with f the rule of the
// field that holds it.
func (w *shape) value(path string, t reflect.Type, f fieldRule) error {
	k := w.dec.PeekKind()
	switch k {
	case jsontext.KindInvalid:
		_, err := w.dec.ReadToken()
		return err
	case jsontext.KindNull:
		// null is "not given", as encoding/json reads it.
		_, err := w.dec.ReadToken()
		return err
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == rawType || t.Kind() == reflect.Interface:
		// Passed on as it is; whoever decodes it checks it.
		return w.dec.SkipValue()
	case t == timeType:
		if k != jsontext.KindString {
			return w.mismatch(path, t, f)
		}
		raw, err := w.dec.ReadValue()
		if err != nil {
			return err
		}
		var tm time.Time
		if tm.UnmarshalJSON(raw) != nil {
			return w.add(path, f.form(t))
		}
		return nil
	}
	switch t.Kind() {
	case reflect.String:
		return w.scalar(path, t, f, k == jsontext.KindString)
	case reflect.Bool:
		return w.scalar(path, t, f, k == jsontext.KindTrue || k == jsontext.KindFalse)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if k != jsontext.KindNumber {
			return w.mismatch(path, t, f)
		}
		tok, err := w.dec.ReadToken()
		if err != nil {
			return err
		}
		if n, err := tok.Int(); err != nil || reflect.New(t).Elem().OverflowInt(n) {
			return w.add(path, f.form(t))
		}
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if k != jsontext.KindNumber {
			return w.mismatch(path, t, f)
		}
		tok, err := w.dec.ReadToken()
		if err != nil {
			return err
		}
		if n, err := tok.Uint(); err != nil || reflect.New(t).Elem().OverflowUint(n) {
			return w.add(path, f.form(t))
		}
		return nil
	case reflect.Float32, reflect.Float64:
		if k != jsontext.KindNumber {
			return w.mismatch(path, t, f)
		}
		tok, err := w.dec.ReadToken()
		if err != nil {
			return err
		}
		if _, err := strconv.ParseFloat(tok.String(), t.Bits()); err != nil {
			return w.add(path, f.form(t))
		}
		return nil
	case reflect.Slice, reflect.Array:
		if k != jsontext.KindBeginArray {
			return w.mismatch(path, t, f)
		}
		return w.array(path, t, f)
	case reflect.Struct:
		if k != jsontext.KindBeginObject {
			return w.mismatch(path, t, f)
		}
		return w.object(path, t)
	case reflect.Map:
		if k != jsontext.KindBeginObject || t.Key().Kind() != reflect.String {
			return w.mismatch(path, t, f)
		}
		return w.mapping(path, t)
	}
	return w.dec.SkipValue()
}

// scalar reads one token that is right when ok.
func (w *shape) scalar(path string, t reflect.Type, f fieldRule, ok bool) error {
	if !ok {
		return w.mismatch(path, t, f)
	}
	_, err := w.dec.ReadToken()
	return err
}

// mismatch names a value of the wrong type and skips it unread.
func (w *shape) mismatch(path string, t reflect.Type, f fieldRule) error {
	if err := w.add(path, f.form(t)); err != nil {
		return err
	}
	return w.dec.SkipValue()
}

// array checks an array's length against its limit first, then its
// elements; past the limit it stops.
func (w *shape) array(path string, t reflect.Type, f fieldRule) error {
	if _, err := w.dec.ReadToken(); err != nil {
		return err
	}
	limit := f.maxItems()
	if t.Kind() == reflect.Array {
		limit = min(limit, t.Len())
	}
	elem := fieldRule{}
	for i := 0; ; i++ {
		switch w.dec.PeekKind() {
		case jsontext.KindEndArray:
			_, err := w.dec.ReadToken()
			return err
		case jsontext.KindInvalid:
			_, err := w.dec.ReadToken()
			return err
		}
		if i == limit {
			_ = w.add(path, fmt.Sprintf("at most %d items", limit))
			return errStop
		}
		if err := w.value(path+"["+strconv.Itoa(i)+"]", t.Elem(), elem); err != nil {
			return err
		}
	}
}

// object checks an object's keys against t's fields: each known, given
// once.
func (w *shape) object(path string, t reflect.Type) error {
	if _, err := w.dec.ReadToken(); err != nil {
		return err
	}
	fields := fieldsOf(t)
	seen := make(map[string]bool, len(fields))
	for {
		switch w.dec.PeekKind() {
		case jsontext.KindEndObject:
			_, err := w.dec.ReadToken()
			return err
		case jsontext.KindInvalid:
			_, err := w.dec.ReadToken()
			return err
		}
		tok, err := w.dec.ReadToken()
		if err != nil {
			return err
		}
		name := tok.String()
		at := join(path, name)
		f, known := fields[name]
		switch {
		case !known:
			err = w.add(at, unknownField(name, fields))
		case seen[name]:
			err = w.add(at, "given more than once")
		default:
			seen[name] = true
			if err := w.value(at, f.typ, f); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if err := w.dec.SkipValue(); err != nil {
			return err
		}
	}
}

// mapping checks an object read into a map: keys given once, values of the
// map's type.
func (w *shape) mapping(path string, t reflect.Type) error {
	if _, err := w.dec.ReadToken(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for {
		switch w.dec.PeekKind() {
		case jsontext.KindEndObject:
			_, err := w.dec.ReadToken()
			return err
		case jsontext.KindInvalid:
			_, err := w.dec.ReadToken()
			return err
		}
		tok, err := w.dec.ReadToken()
		if err != nil {
			return err
		}
		name := tok.String()
		at := join(path, name)
		if seen[name] {
			if err := w.add(at, "given more than once"); err != nil {
				return err
			}
			if err := w.dec.SkipValue(); err != nil {
				return err
			}
			continue
		}
		seen[name] = true
		if err := w.value(at, t.Elem(), fieldRule{}); err != nil {
			return err
		}
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

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
	case reflect.Slice, reflect.Array:
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
		rule := fieldRule{typ: sf.Type, expect: sf.Tag.Get("expect")}
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
				out[name] = rule
			}
		}
	}
	v, _ := fieldCache.LoadOrStore(t, out)
	return v.(map[string]fieldRule)
}
