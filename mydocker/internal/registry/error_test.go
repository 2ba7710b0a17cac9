//chapter:images

package registry

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// What the registry writes reaches the user's terminal: no escape
// sequence, no invisible character, no character cut in half.
func TestErrorTextIsPrintable(t *testing.T) {
	tests := []struct {
		name, status, body string
		want               string
	}{
		{"escape sequences", "500 \x1b[2JOops",
			`{"errors":[{"code":"DENIED","message":"\u001b[31mno\u001b[0m\r\ndrop\u202eit"}]}`,
			"GET u: 500 [2JOops: DENIED: [31mno[0m  dropit"},
		{"bytes that are not UTF-8", "502 Bad Gateway", "bad \xff\xfe bytes\x07",
			"GET u: 502 Bad Gateway: bad \uFFFD\uFFFD bytes"},
		{"long text, cut between characters", "502 Bad Gateway", "x" + strings.Repeat("é", 400),
			"GET u: 502 Bad Gateway: x" + strings.Repeat("é", (maxMessage-1)/2) + "..."},
	}
	for _, tt := range tests {
		resp := &http.Response{Status: tt.status, StatusCode: 500, Body: io.NopCloser(strings.NewReader(tt.body))}
		got := responseError("u", resp).Error()
		if got != tt.want || !utf8.ValidString(got) {
			t.Errorf("%s: %q; want %q", tt.name, got, tt.want)
		}
	}
}
