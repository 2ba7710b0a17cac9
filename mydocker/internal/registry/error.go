//chapter:images

package registry

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error is an answer of the registry other than success: its HTTP status
// and the codes of the errors in its body, such as MANIFEST_UNKNOWN,
// NAME_UNKNOWN, UNAUTHORIZED or DENIED (the distribution spec lists them).
// Status and Message are made printable (see printable).
type Error struct {
	URL        string
	Status     string   // e.g. "404 Not Found"
	StatusCode int      // e.g. 404
	Codes      []string // e.g. MANIFEST_UNKNOWN
	Message    string   // the errors of the body, or the start of the body
}

func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("GET %s: %s", e.URL, e.Status)
	}
	return fmt.Sprintf("GET %s: %s: %s", e.URL, e.Status, e.Message)
}

// HasCode says whether the registry answered with one of these codes.
func (e *Error) HasCode(codes ...string) bool {
	return slices.ContainsFunc(e.Codes, func(c string) bool { return slices.Contains(codes, c) })
}

// maxMessage is the most of a registry's text that an Error keeps.
const maxMessage = 300

// responseError reads a failed answer into an *Error. The body is JSON:
//
//	{"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}
//
// or, from a server that is not a registry, anything at all.
func responseError(url string, resp *http.Response) error {
	e := &Error{URL: url, Status: printable(resp.Status), StatusCode: resp.StatusCode}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var body struct {
		Errors []struct{ Code, Message string }
	}
	message := string(data)
	if json.Unmarshal(data, &body) == nil && len(body.Errors) > 0 {
		var messages []string
		for _, err := range body.Errors {
			e.Codes = append(e.Codes, err.Code)
			messages = append(messages, err.Code+": "+err.Message)
		}
		message = strings.Join(messages, "; ")
	}
	e.Message = shorten(strings.TrimSpace(printable(message)), maxMessage)
	return e
}

// printable makes text from the registry safe to show on a terminal. It
// drops control characters, which a terminal obeys rather than shows (an
// escape sequence can rewrite what is on the screen), and invisible
// formatting ones (which can reverse the text that follows); white space
// becomes a space, and bytes that are not UTF-8 become U+FFFD.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case unicode.IsGraphic(r):
			return r
		}
		return -1
	}, s)
}

// shorten cuts s to at most n bytes and marks the cut, which falls
// between two characters, never inside one.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
