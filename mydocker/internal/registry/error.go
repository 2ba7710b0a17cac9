//chapter:5

package registry

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// Error is an answer of the registry other than success: its HTTP status
// and the codes of the errors in its body, such as MANIFEST_UNKNOWN,
// NAME_UNKNOWN, UNAUTHORIZED or DENIED (the distribution spec lists them).
type Error struct {
	URL     string
	Status  string   // e.g. "404 Not Found"
	Code    int      // e.g. 404
	Codes   []string // e.g. MANIFEST_UNKNOWN
	Message string   // the errors of the body, or the start of the body
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

// responseError reads a failed answer into an *Error. The body is JSON:
//
//	{"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}
//
// or, from a server that is not a registry, anything at all.
func responseError(url string, resp *http.Response) error {
	e := &Error{URL: url, Status: resp.Status, Code: resp.StatusCode}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var body struct {
		Errors []struct{ Code, Message string }
	}
	if json.Unmarshal(data, &body) == nil && len(body.Errors) > 0 {
		var messages []string
		for _, err := range body.Errors {
			e.Codes = append(e.Codes, err.Code)
			messages = append(messages, err.Code+": "+err.Message)
		}
		e.Message = strings.Join(messages, "; ")
		return e
	}
	e.Message = strings.TrimSpace(string(data[:min(len(data), 200)]))
	return e
}
