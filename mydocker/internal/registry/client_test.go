//chapter:5

package registry

import (
	"net/http"
	"net/http/httptest"
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
