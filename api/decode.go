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
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"pingan/internal/errs"
)

// The strict decoding of SPEC §6. A body is read once, token by token,
// against the request type (jsontext is the tokenizer of encoding/json/v2),
// filling the request as encoding/json would. The walk is what makes a
// body strict and cheap to refuse:
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

// maxStringBytes bounds a string or key as sent, escapes included: far
// above any text a field takes (2 000 characters at most, up to 24 000
// bytes when every one is escaped), so only abuse meets it, and is refused
// before it is unescaped.
const maxStringBytes = 64 << 10

// timeForm is what a time field takes (SPEC §6).
const timeForm = "an RFC 3339 time with offset, e.g. 2026-11-27T09:30:00+08:00"

// decodeStrict decodes data, one JSON object, into dst, a pointer to a
// request struct. Returns errs.FieldErrors naming every bad field (up to
// errs.MaxFieldErrors), or "body" for data that is not one JSON object.
func decodeStrict(data []byte, dst any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errs.Invalid("body", "a JSON object is required")
	}
	return walkInto(data, reflect.ValueOf(dst).Elem())
}

// errStop ends a walk that has found enough: the errors collected are the
// answer.
var errStop = errors.New("enough problems found")

// shape walks a body's tokens against a request type.
type shape struct {
	dec *jsontext.Decoder
	bad errs.FieldErrors
	// at is where the walk is: keys, and indexes (name ""), from the top.
	at []step
}

type step struct {
	name  string
	index int
}

// where names the walk's place as a field: "parties[3].name".
func (w *shape) where() string {
	var b strings.Builder
	for _, s := range w.at {
		switch {
		case s.name == "":
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		case b.Len() > 0:
			b.WriteString("." + s.name)
		default:
			b.WriteString(s.name)
		}
	}
	return b.String()
}

// walkInto decodes data into v, a struct, refusing what SPEC §6 refuses.
// On error v holds what was read so far, to be thrown away.
func walkInto(data []byte, v reflect.Value) error {
	// Duplicates are checked here, by field, rather than by the tokenizer
	// everywhere: a raw value (a sync operation's body) is checked by the
	// decoding it is passed on to, so that its problems stay its own.
	w := &shape{dec: jsontext.NewDecoder(bytes.NewReader(data), jsontext.AllowDuplicateNames(true)), bad: errs.FieldErrors{}}
	switch w.dec.PeekKind() {
	case jsontext.KindBeginObject:
	case jsontext.KindInvalid:
		_, err := w.dec.ReadToken()
		return syntaxProblem(data, err)
	default:
		return errs.Invalid("body", "a JSON object is required")
	}
	err := w.value(v, fieldRule{})
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
		return syntaxProblem(data, err)
	}
	return w.bad.Err()
}

// syntaxProblem names what is wrong with data, which is not JSON.
func syntaxProblem(data []byte, err error) error {
	var se *jsontext.SyntacticError
	switch {
	case !utf8.Valid(data):
		// The one pass that checks the text as UTF-8 is the decoder's.
		return errs.Invalid("body", "is not valid UTF-8")
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
func (w *shape) add(msg string) error {
	w.bad.Add(w.where(), msg)
	if w.bad.More() {
		return errStop
	}
	return nil
}

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// value reads the next value into v (settable), with f the rule
// of the field that holds it.
func (w *shape) value(v reflect.Value, f fieldRule) error {
	k := w.dec.PeekKind()
	switch k {
	case jsontext.KindInvalid:
		_, err := w.dec.ReadToken()
		return err
	case jsontext.KindNull:
		// null is "not given", as encoding/json reads it: a pointer, slice
		// or map is nil, anything else stays as it was.
		switch {
		case v.Type() == rawType:
			v.SetBytes([]byte("null"))
		case v.Kind() == reflect.Pointer, v.Kind() == reflect.Slice, v.Kind() == reflect.Map, v.Kind() == reflect.Interface:
			v.SetZero()
		}
		_, err := w.dec.ReadToken()
		return err
	}
	t := v.Type()
	if t.Kind() == reflect.Pointer && t != rawType {
		elem := reflect.New(t.Elem())
		if err := w.value(elem.Elem(), f); err != nil {
			return err
		}
		v.Set(elem)
		return nil
	}
	switch {
	case t == rawType:
		// Passed on as it is; whoever decodes it checks it.
		raw, err := w.dec.ReadValue()
		if err != nil {
			return err
		}
		v.SetBytes(bytes.Clone(raw))
		return nil
	case t.Kind() == reflect.Interface:
		raw, err := w.dec.ReadValue()
		if err != nil {
			return err
		}
		return json.Unmarshal(raw, v.Addr().Interface())
	case t == timeType:
		if k != jsontext.KindString {
			return w.mismatch(t, f)
		}
		raw, err := w.dec.ReadValue()
		if err != nil {
			return err
		}
		var tm time.Time
		if tm.UnmarshalJSON(raw) != nil {
			return w.add(f.form(t))
		}
		v.Set(reflect.ValueOf(tm))
		return nil
	}
	switch t.Kind() {
	case reflect.String:
		if k != jsontext.KindString {
			return w.mismatch(t, f)
		}
		str, long, err := w.readString()
		switch {
		case err != nil:
			return err
		case long:
			return w.add(fmt.Sprintf("far too long: over %d bytes", maxStringBytes))
		}
		v.SetString(str)
		return nil
	case reflect.Bool:
		if k != jsontext.KindTrue && k != jsontext.KindFalse {
			return w.mismatch(t, f)
		}
		tok, err := w.dec.ReadToken()
		if err != nil {
			return err
		}
		v.SetBool(tok.Bool())
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if k != jsontext.KindNumber {
			return w.mismatch(t, f)
		}
		tok, err := w.dec.ReadToken()
		if err != nil {
			return err
		}
		n, err := tok.Int()
		if err != nil || v.OverflowInt(n) {
			return w.add(f.form(t))
		}
		v.SetInt(n)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if k != jsontext.KindNumber {
			return w.mismatch(t, f)
		}
		tok, err := w.dec.ReadToken()
		if err != nil {
			return err
		}
		n, err := tok.Uint()
		if err != nil || v.OverflowUint(n) {
			return w.add(f.form(t))
		}
		v.SetUint(n)
		return nil
	case reflect.Float32, reflect.Float64:
		if k != jsontext.KindNumber {
			return w.mismatch(t, f)
		}
		tok, err := w.dec.ReadToken()
		if err != nil {
			return err
		}
		x, err := strconv.ParseFloat(tok.String(), t.Bits())
		if err != nil {
			return w.add(f.form(t))
		}
		v.SetFloat(x)
		return nil
	case reflect.Slice:
		if k != jsontext.KindBeginArray {
			return w.mismatch(t, f)
		}
		return w.array(v, f)
	case reflect.Struct:
		if k != jsontext.KindBeginObject {
			return w.mismatch(t, f)
		}
		return w.object(v)
	case reflect.Map:
		if k != jsontext.KindBeginObject || t.Key().Kind() != reflect.String {
			return w.mismatch(t, f)
		}
		return w.mapping(v)
	}
	// No request holds another kind (arrays, channels, funcs).
	return w.mismatch(t, f)
}

// readString reads the next string (a value or a key). One of over
// maxStringBytes is read but not unescaped: long reports it, with its first
// bytes as the string, enough to name it.
func (w *shape) readString() (s string, long bool, err error) {
	raw, err := w.dec.ReadValue()
	if err != nil {
		return "", false, err
	}
	if len(raw) > maxStringBytes {
		return strings.ToValidUTF8(string(raw[1:maxFieldName]), ""), true, nil
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), false, nil
	}
	out, err := jsontext.AppendUnquote(nil, raw)
	return string(out), false, err
}

// mismatch names a value of the wrong type and skips it unread.
func (w *shape) mismatch(t reflect.Type, f fieldRule) error { return w.skip(f.form(t)) }

// skip names a value that will not be read (of an unknown key, of the
// wrong type) with msg, and skips it. An array or object ends the walk
// instead: the body is refused already, and what it holds is not worth
// reading.
func (w *shape) skip(msg string) error {
	if err := w.add(msg); err != nil {
		return err
	}
	switch w.dec.PeekKind() {
	case jsontext.KindBeginArray, jsontext.KindBeginObject:
		return errStop
	}
	return w.dec.SkipValue()
}

// array reads an array into v, a slice, checking its length against its
// limit before each element; past the limit it stops.
func (w *shape) array(v reflect.Value, f fieldRule) error {
	if _, err := w.dec.ReadToken(); err != nil {
		return err
	}
	limit := f.maxItems()
	out := reflect.MakeSlice(v.Type(), 0, 0)
	for i := 0; ; i++ {
		switch w.dec.PeekKind() {
		case jsontext.KindEndArray:
			_, err := w.dec.ReadToken()
			v.Set(out)
			return err
		case jsontext.KindInvalid:
			_, err := w.dec.ReadToken()
			return err
		}
		if i == limit {
			_ = w.add(fmt.Sprintf("at most %d items", limit))
			return errStop
		}
		out = reflect.Append(out, reflect.Zero(v.Type().Elem()))
		w.at = append(w.at, step{index: i})
		err := w.value(out.Index(i), fieldRule{})
		w.at = w.at[:len(w.at)-1]
		if err != nil {
			return err
		}
	}
}

// object reads an object into v, a struct: each key one of its fields,
// given once.
func (w *shape) object(v reflect.Value) error {
	if _, err := w.dec.ReadToken(); err != nil {
		return err
	}
	fields := fieldsOf(v.Type())
	var seen uint64 // by field ordinal
	for {
		switch w.dec.PeekKind() {
		case jsontext.KindEndObject:
			_, err := w.dec.ReadToken()
			return err
		case jsontext.KindInvalid:
			_, err := w.dec.ReadToken()
			return err
		}
		name, long, err := w.readString()
		if err != nil {
			return err
		}
		w.at = append(w.at, step{name: name})
		f, known := fields[name]
		switch {
		case !known || long:
			err = w.skip(unknownField(name, fields))
		case seen&(1<<f.ord) != 0:
			err = w.skip("given more than once")
		default:
			seen |= 1 << f.ord
			err = w.value(fieldByIndex(v, f.index), f)
		}
		w.at = w.at[:len(w.at)-1]
		if err != nil {
			return err
		}
	}
}

// fieldByIndex is v's field at index, through embedded structs, making
// nil embedded pointers on the way.
func fieldByIndex(v reflect.Value, index []int) reflect.Value {
	for n, i := range index {
		if n > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	return v
}

// mapping reads an object into v, a map with string keys: keys given
// once, values of the map's type.
func (w *shape) mapping(v reflect.Value) error {
	if _, err := w.dec.ReadToken(); err != nil {
		return err
	}
	out := reflect.MakeMap(v.Type())
	for {
		switch w.dec.PeekKind() {
		case jsontext.KindEndObject:
			_, err := w.dec.ReadToken()
			v.Set(out)
			return err
		case jsontext.KindInvalid:
			_, err := w.dec.ReadToken()
			return err
		}
		name, _, err := w.readString()
		if err != nil {
			return err
		}
		w.at = append(w.at, step{name: name})
		key := reflect.ValueOf(name).Convert(v.Type().Key())
		if out.MapIndex(key).IsValid() {
			err = w.skip("given more than once")
		} else {
			elem := reflect.New(v.Type().Elem()).Elem()
			if err = w.value(elem, fieldRule{}); err == nil {
				out.SetMapIndex(key, elem)
			}
		}
		w.at = w.at[:len(w.at)-1]
		if err != nil {
			return err
		}
	}
}
