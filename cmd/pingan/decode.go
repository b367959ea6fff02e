package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// decodeStrict decodes one JSON object into dst for the command cmd, refusing
// unknown fields, a key given twice in one object (a second parser could
// read the other one: SPEC §6) and trailing data; errors say where (what
// names the object).
func decodeStrict(data []byte, dst any, cmd, what string) error {
	if key, dup := duplicateKey(data); dup {
		return badInputf("%s: %s: the key %s is given twice in one object", cmd, what, key)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		if _, tail := dec.Token(); tail != io.EOF {
			return badInputf("%s: %s: trailing data after the JSON object", cmd, what)
		}
		return nil
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		line, col := position(data, syntax.Offset)
		return badInputf("%s: %s: malformed JSON at line %d, column %d: %s", cmd, what, line, col,
			strings.TrimPrefix(syntax.Error(), "json: "))
	case errors.As(err, &typ):
		field := what
		if typ.Field != "" {
			field += "." + typ.Field
		}
		return badInputf("%s: %s: want %s, got %s", cmd, field, jsonKind(typ.Type), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return badInputf("%s: %s: unknown field %s", cmd, what, strings.TrimPrefix(err.Error(), "json: unknown field "))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return badInputf("%s: %s: truncated or empty JSON", cmd, what)
	}
	return badInputf("%s: %s: %s", cmd, what, strings.TrimPrefix(err.Error(), "json: "))
}

// duplicateKey walks data's tokens and returns the path of the first key
// given twice in one object ("regions[2].code"); dup is false when there
// is none or data is not JSON (the decoder says why then).
func duplicateKey(data []byte) (path string, dup bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		object bool
		keys   map[string]bool
		name   string // the frame's path
		index  int    // arrays: the next element
		key    bool   // objects: the next token is a key
		last   string // objects: the key being read
	}
	var stack []*frame
	child := func() string {
		if len(stack) == 0 {
			return ""
		}
		f := stack[len(stack)-1]
		if f.object {
			if f.name == "" {
				return f.last
			}
			return f.name + "." + f.last
		}
		return fmt.Sprintf("%s[%d]", f.name, f.index)
	}
	done := func() { // a value ended: its parent moves on
		if len(stack) == 0 {
			return
		}
		f := stack[len(stack)-1]
		if f.object {
			f.key = true
		} else {
			f.index++
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				stack = append(stack, &frame{object: t == '{', keys: map[string]bool{}, name: child(), key: t == '{'})
			default:
				stack = stack[:len(stack)-1]
				done()
				if len(stack) == 0 {
					return "", false
				}
			}
			continue
		case string:
			if f := stack; len(f) > 0 && f[len(f)-1].object && f[len(f)-1].key {
				top := f[len(f)-1]
				if top.keys[t] {
					top.last = t
					return child(), true
				}
				top.keys[t], top.last, top.key = true, t, false
				continue
			}
		}
		done()
		if len(stack) == 0 {
			return "", false
		}
	}
}

// jsonKind names what a Go type wants in JSON.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list"
	}
	return "an object"
}

// position is the 1-based line and column of byte offset off in data.
func position(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	return line, int(off) - (bytes.LastIndexByte(before, '\n') + 1)
}
