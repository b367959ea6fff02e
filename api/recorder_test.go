package api

import "testing"

// TestRecorder: the recorder keeps what a connection would send: the first
// status written (200 when a body comes first or nothing is written) and
// every byte of the body.
func TestRecorder(t *testing.T) {
	rows := []struct {
		name   string
		write  func(r *recorder)
		status int
		body   string
	}{
		{"nothing written", func(r *recorder) {}, 200, ""},
		{"status only", func(r *recorder) { r.WriteHeader(204) }, 204, ""},
		{"status then body", func(r *recorder) { r.WriteHeader(201); _, _ = r.Write([]byte(`{"a":1}`)) }, 201, `{"a":1}`},
		{"body first means 200", func(r *recorder) { _, _ = r.Write([]byte("x")); r.WriteHeader(500) }, 200, "x"},
		{"first status wins", func(r *recorder) { r.WriteHeader(409); r.WriteHeader(200) }, 409, ""},
		{"body in pieces", func(r *recorder) { _, _ = r.Write([]byte("ab")); _, _ = r.Write([]byte("cd")) }, 200, "abcd"},
	}
	for _, row := range rows {
		r := newRecorder()
		row.write(r)
		if r.status != row.status || r.body.String() != row.body {
			t.Errorf("%s: %d %q, want %d %q", row.name, r.status, r.body.String(), row.status, row.body)
		}
	}
	r := newRecorder()
	r.Header().Set("ETag", `"1"`)
	if r.Header().Get("ETag") != `"1"` {
		t.Fatal("the header map does not keep what is set")
	}
}
