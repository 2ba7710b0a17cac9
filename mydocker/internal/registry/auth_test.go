//chapter:5

package registry

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

func TestCheckRealm(t *testing.T) {
	tests := []struct {
		registry, realm string
		refused         string // in the error, or "" for accepted
	}{
		{"https://registry-1.docker.io", "https://auth.docker.io/token", ""},
		{"https://registry.example", "https://8.8.8.8/token", ""},
		{"https://registry.example", "http://auth.example/token", "the realm does not"},
		{"http://registry.example", "http://auth.example/token", ""},
		{"https://registry.example", "https://169.254.169.254/latest/meta-data", "internal address"},
		{"https://registry.example", "https://10.0.0.1/token", "internal address"},
		{"https://registry.example", "https://192.168.1.1/token", "internal address"},
		{"https://registry.example", "https://[fe80::1]/token", "internal address"},
		{"https://registry.example", "https://[fd00::1]/token", "internal address"},
		{"https://registry.example", "https://127.0.0.1/token", "internal address"},
		{"https://registry.example", "https://[::1]:8443/token", "internal address"},
		{"https://registry.example", "https://[::ffff:127.0.0.1]/token", "internal address"},
		{"https://registry.example", "https://0.0.0.0/token", "internal address"},
		{"https://registry.example", "https://localhost/token", "internal address"},
		{"https://registry.example", "https://auth.localhost/token", "internal address"},
		// The registry's own host and port may be its realm.
		{"http://127.0.0.1:5000", "http://127.0.0.1:5000/token", ""},
		{"http://127.0.0.1:5000", "http://127.0.0.1:5001/token", "internal address"},
		{"https://10.0.0.5/v2/app", "https://10.0.0.5:443/token", ""},
		{"https://10.0.0.5/v2/app", "https://10.0.0.5:8443/token", "internal address"},
	}
	for _, tt := range tests {
		registry, _ := url.Parse(tt.registry)
		realm, _ := url.Parse(tt.realm)
		err := checkRealm(realm, registry)
		if (tt.refused == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.refused)) {
			t.Errorf("checkRealm(%s) of %s: %v; want %q", tt.realm, tt.registry, err, tt.refused)
		}
	}
}

// A realm that the registry may not use is never contacted, neither
// directly nor through a redirect of the token request; and only the
// field "token" or "access_token" of the answer is a token.
func TestBadRealmsAreNotAsked(t *testing.T) {
	var internalRequests atomic.Int32
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		internalRequests.Add(1)
		fmt.Fprint(w, `{"token": "secret of the internal service"}`)
	}))
	defer internal.Close()
	var realm string
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, internal.URL+"/token", http.StatusFound)
		case "/capitalised":
			fmt.Fprint(w, `{"Token": "an answer that is not a token"}`)
		default:
			if r.Header.Get("Authorization") != "" {
				t.Errorf("the registry got Authorization %q", r.Header.Get("Authorization"))
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`"`)
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer reg.Close()

	for _, tt := range []struct{ realm, message string }{
		{internal.URL + "/token", "refused the token realm " + internal.URL + "/token: it is on an internal address"},
		{reg.URL + "/redirect", "refused the token realm " + internal.URL + "/token: it is on an internal address"},
		{reg.URL + "/capitalised", "sent no token"},
	} {
		realm = tt.realm
		_, _, err := testRepository(t, reg, "app").Manifest(context.Background(), "latest")
		if err == nil || !strings.Contains(err.Error(), tt.message) {
			t.Errorf("realm %s: error %v; want %q", tt.realm, err, tt.message)
		}
	}
	if n := internalRequests.Load(); n != 0 {
		t.Errorf("the internal server got %d requests; want none", n)
	}
}
