package text

import "testing"

func TestClean(t *testing.T) {
	for _, c := range []struct {
		s         string
		multiline bool
		want      bool
	}{
		{"府前社区 第1网格", false, true},
		{"a\u0000b", false, false},
		{"a\u001bb", true, false},
		{"line one\nline two\ttab", true, true},
		{"line one\nline two", false, false},
		{"bad \ufffd replacement", true, false},
		{"", false, true},
	} {
		if got := Clean(c.s, c.multiline); got != c.want {
			t.Errorf("Clean(%q, %v) = %v, want %v", c.s, c.multiline, got, c.want)
		}
	}
}
