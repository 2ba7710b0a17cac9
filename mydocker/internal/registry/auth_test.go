//chapter:images

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
		insecure        bool
		refused         string // in the error, or "" for accepted
	}{
		{"https://registry-1.docker.io", "https://auth.docker.io/token", false, ""},
		{"https://registry.example", "https://8.8.8.8/token", false, ""},
		{"https://registry.example", "http://auth.example/token", false, "the realm does not"},
		{"https://registry.example", "http://auth.example/token", true, "the realm does not"},
		{"https://registry.example", "https://169.254.169.254/latest/meta-data", false, "internal address"},
		{"https://registry.example", "https://10.0.0.1/token", false, "internal address"},
		{"https://registry.example", "https://192.168.1.1/token", false, "internal address"},
		{"https://registry.example", "https://[fe80::1]/token", false, "internal address"},
		{"https://registry.example", "https://[fd00::1]/token", false, "internal address"},
		{"https://registry.example", "https://127.0.0.1/token", false, "internal address"},
		{"https://registry.example", "https://[::1]:8443/token", false, "internal address"},
		{"https://registry.example", "https://[::ffff:127.0.0.1]/token", false, "internal address"},
		{"https://registry.example", "https://0.0.0.0/token", false, "internal address"},
		{"https://registry.example", "https://localhost/token", false, "internal address"},
		{"https://registry.example", "https://auth.localhost/token", false, "internal address"},
		// Plain HTTP goes to another machine only with --insecure, and a
		// name is never taken for this machine, whatever it leads to.
		{"http://registry.example", "http://auth.example/token", true, ""},
		{"http://registry.example", "http://auth.example/token", false, "plain HTTP goes only to this machine"},
		{"http://127.0.0.1:5000", "http://auth.test:5000/token", false, "plain HTTP goes only to this machine"},
		{"http://127.0.0.1:5000", "http://127.0.0.1.nip.io:5000/token", false, "plain HTTP goes only to this machine"},
		{"http://127.0.0.1:5000", "http://auth.localhost:5000/token", false, "plain HTTP goes only to this machine"},
		{"http://127.0.0.1:5000", "http://192.0.2.1/token", false, "plain HTTP goes only to this machine"},
		{"http://127.0.0.1:5000", "https://auth.example/token", false, ""},
		// The registry's own host and port may be its realm.
		{"http://127.0.0.1:5000", "http://127.0.0.1:5000/token", false, ""},
		{"http://localhost:5000", "http://localhost:5000/token", false, ""},
		{"http://[::1]:5000", "http://[::1]:5000/token", false, ""},
		{"http://127.0.0.1:5000", "http://127.0.0.1:5001/token", false, "internal address"},
		{"https://10.0.0.5/v2/app", "https://10.0.0.5:443/token", false, ""},
		{"https://10.0.0.5/v2/app", "https://10.0.0.5:8443/token", false, "internal address"},
	}
	for _, tt := range tests {
		registry, _ := url.Parse(tt.registry)
		realm, _ := url.Parse(tt.realm)
		err := checkRealm(realm, registry, tt.insecure)
		if (tt.refused == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.refused)) {
			t.Errorf("checkRealm(%s) of %s, insecure=%v: %v; want %q", tt.realm, tt.registry, tt.insecure, err, tt.refused)
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
		case "/redirect-to-name":
			http.Redirect(w, r, strings.Replace(internal.URL, "127.0.0.1", "auth.test", 1)+"/token", http.StatusFound)
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

	// A name that would lead to the internal server; the test's dialer
	// fails the test if the client dials it (see loopbackOnly).
	named := strings.Replace(internal.URL, "127.0.0.1", "auth.test", 1)
	for _, tt := range []struct{ realm, message string }{
		{internal.URL + "/token", "refused the token realm " + internal.URL + "/token: it is on an internal address"},
		{named + "/token", "refused the token realm " + named + "/token: plain HTTP goes only to this machine"},
		{reg.URL + "/redirect-to-name", "refused the token realm " + named + "/token: plain HTTP goes only to this machine"},
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
