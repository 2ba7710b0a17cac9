//chapter:images

package registry

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mydocker/mydocker/mydocker/internal/image"
)

// The token goes only to the registry's scheme, host and port: Go's own
// client would send it to the same host on another port too.
func TestRedirectToAnotherPortDropsTheToken(t *testing.T) {
	blob := []byte("a layer from another port")
	other := tokenlessServer(t, "the other port", blob)
	defer other.Close()
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requireToken(t, r)
		// Back to the registry first: the token is still its own.
		if r.URL.Query().Get("hop") == "" {
			http.Redirect(w, r, r.URL.Path+"?hop=1", http.StatusTemporaryRedirect)
			return
		}
		http.Redirect(w, r, other.URL+"/blob", http.StatusTemporaryRedirect)
	}))
	defer reg.Close()
	if !strings.HasPrefix(other.URL, "http://127.0.0.1:") || !strings.HasPrefix(reg.URL, "http://127.0.0.1:") {
		t.Fatalf("the servers are at %s and %s; want the same host", reg.URL, other.URL)
	}

	repo := testRepository(t, reg, "app")
	repo.token = "s3cret"
	if got := readBlob(t, repo, image.Descriptor{Size: int64(len(blob)), Digest: image.DigestOf(blob)}); got != string(blob) {
		t.Errorf("blob = %q; want %q", got, blob)
	}
}

// A registry on HTTPS may not send mydocker to plain HTTP, and a chain of
// redirects ends after 10.
func TestRedirectsRefused(t *testing.T) {
	var plainRequests atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainRequests.Add(1)
	}))
	defer plain.Close()
	reg := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/loop/") {
			http.Redirect(w, r, r.URL.Path, http.StatusFound)
			return
		}
		http.Redirect(w, r, plain.URL+"/blob", http.StatusFound)
	}))
	defer reg.Close()

	repo := testRepository(t, reg, "app")
	desc := image.Descriptor{Size: 1, Digest: image.DigestOf([]byte("x"))}
	if _, err := repo.OpenBlob(t.Context(), desc); err == nil || !strings.Contains(err.Error(), "refused a redirect from HTTPS to plain HTTP") {
		t.Errorf("HTTPS to HTTP: error %v; want refused", err)
	}
	if n := plainRequests.Load(); n != 0 {
		t.Errorf("the plain HTTP server got %d requests; want none", n)
	}
	repo.url += "/loop"
	if _, err := repo.OpenBlob(t.Context(), desc); err == nil || !strings.Contains(err.Error(), "stopped after 10 redirects") {
		t.Errorf("endless redirects: error %v; want stopped after 10", err)
	}
}

// A registry on loopback, spoken to in plain HTTP, may not send mydocker
// in clear to another machine: the redirect is refused before anything
// dials 192.0.2.1 (the test's dialer fails the test if anything does).
func TestRedirectFromLoopbackToAnotherMachineRefused(t *testing.T) {
	blob := []byte("a blob on this machine")
	local := tokenlessServer(t, "the local server", blob)
	defer local.Close()
	localhost := strings.Replace(local.URL, "127.0.0.1", "localhost", 1)
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.Contains(r.URL.Path, "/elsewhere/"):
			http.Redirect(w, r, "http://192.0.2.1/blob", http.StatusTemporaryRedirect)
		case strings.Contains(r.URL.Path, "/by-name/"):
			http.Redirect(w, r, "http://blobs.test/blob", http.StatusTemporaryRedirect)
		default:
			http.Redirect(w, r, localhost+"/blob", http.StatusTemporaryRedirect)
		}
	}))
	defer reg.Close()
	desc := image.Descriptor{Size: int64(len(blob)), Digest: image.DigestOf(blob)}

	for _, tt := range []struct{ path, to string }{
		{"/elsewhere", "http://192.0.2.1/blob"},
		{"/by-name", "http://blobs.test/blob"}, // a name, even one that would lead to 127.0.0.1
	} {
		repo := testRepository(t, reg, "app")
		repo.url = reg.URL + "/v2/app" + tt.path
		want := "refused a redirect from " + repo.url + "/blobs/" + string(desc.Digest) + " to " + tt.to +
			": plain HTTP goes only to this machine (127.0.0.0/8, ::1 or localhost) unless you pull with --insecure"
		if _, err := repo.OpenBlob(t.Context(), desc); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v; want %q", tt.path, err, want)
		}
	}

	// To localhost, which the client dials at 127.0.0.1, it may.
	repo := testRepository(t, reg, "app")
	transport := repo.client.Transport.(*http.Transport)
	transport.DialContext = dialLocalhost(transport.DialContext)
	if got := readBlob(t, repo, desc); got != string(blob) {
		t.Errorf("blob = %q; want %q, from localhost", got, blob)
	}
}

func TestCheckRedirect(t *testing.T) {
	tests := []struct {
		via      []string // the requests so far
		to       string
		insecure bool
		refused  string // in the error, or "" for followed
	}{
		{[]string{"http://127.0.0.1:5000/v2/a"}, "http://127.0.0.1:5001/blob", false, ""},
		{[]string{"http://127.0.0.1:5000/v2/a"}, "http://127.0.0.2/blob", false, ""},
		{[]string{"http://127.0.0.1:5000/v2/a"}, "http://[::1]:5001/blob", false, ""},
		{[]string{"http://127.0.0.1:5000/v2/a"}, "http://localhost:5001/blob", false, ""},
		{[]string{"http://127.0.0.1:5000/v2/a"}, "https://cdn.example/blob", false, ""},
		{[]string{"http://127.0.0.1:5000/v2/a"}, "http://192.0.2.1/blob", false, "plain HTTP goes only to this machine"},
		{[]string{"http://127.0.0.1:5000/v2/a"}, "http://10.0.0.1/blob", false, "plain HTTP goes only to this machine"},
		{[]string{"http://127.0.0.1:5000/v2/a"}, "http://reg.localhost/blob", false, "plain HTTP goes only to this machine"},
		{[]string{"http://127.0.0.1:5000/v2/a"}, "http://127.0.0.1.nip.io/blob", false, "plain HTTP goes only to this machine"},
		{[]string{"http://localhost:5000/v2/a"}, "http://[::ffff:192.0.2.1]/blob", false, "plain HTTP goes only to this machine"},
		// --insecure trusts the network: plain HTTP to any machine.
		{[]string{"http://registry.lab:5000/v2/a"}, "http://blobs.lab/blob", true, ""},
		{[]string{"http://127.0.0.1:5000/v2/a"}, "http://192.0.2.1/blob", true, ""},
		// Never from HTTPS to plain HTTP, at any step, with or without --insecure.
		{[]string{"https://registry.example/v2/a"}, "http://127.0.0.1/blob", false, "from HTTPS to plain HTTP"},
		{[]string{"https://registry.example/v2/a"}, "http://blobs.lab/blob", true, "from HTTPS to plain HTTP"},
		{[]string{"http://127.0.0.1:5000/v2/a", "https://cdn.example/blob"}, "http://127.0.0.1:5000/blob", false, "from HTTPS to plain HTTP"},
	}
	for _, tt := range tests {
		var via []*http.Request
		for _, u := range tt.via {
			via = append(via, httptest.NewRequest(http.MethodGet, u, nil))
		}
		repo := &Repository{insecure: tt.insecure}
		err := repo.checkRedirect(httptest.NewRequest(http.MethodGet, tt.to, nil), via)
		if (tt.refused == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.refused)) {
			t.Errorf("redirect %v -> %s, insecure=%v: %v; want %q", tt.via, tt.to, tt.insecure, err, tt.refused)
		}
	}
}

// The name localhost is dialled at 127.0.0.1, never looked up; other
// names and addresses are dialled as they are.
func TestLocalhostIsNotLookedUp(t *testing.T) {
	var dialled []string
	dial := dialLocalhost(func(_ context.Context, _, addr string) (net.Conn, error) {
		dialled = append(dialled, addr)
		return nil, errors.New("not dialled in the test")
	})
	for _, addr := range []string{"localhost:5000", "LocalHost:80", "reg.localhost:5000", "[::1]:5000", "example.test:443"} {
		dial(t.Context(), "tcp", addr)
	}
	want := []string{"127.0.0.1:5000", "127.0.0.1:80", "reg.localhost:5000", "[::1]:5000", "example.test:443"}
	if !slices.Equal(dialled, want) {
		t.Errorf("dialled %v; want %v", dialled, want)
	}
}
