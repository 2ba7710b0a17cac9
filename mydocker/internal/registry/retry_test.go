//chapter:images

package registry

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mydocker/mydocker/mydocker/internal/image"
)

// recordWaits makes repo note its waits instead of waiting.
func recordWaits(repo *Repository) *[]time.Duration {
	var waits []time.Duration
	repo.wait = func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		return nil
	}
	return &waits
}

func TestRetries(t *testing.T) {
	manifest, _ := testManifest(t, []byte("layer"))
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := requests.Add(1)
		switch {
		case strings.HasSuffix(r.URL.Path, "/missing"):
			http.NotFound(w, r)
		case strings.HasSuffix(r.URL.Path, "/down"):
			w.WriteHeader(http.StatusServiceUnavailable)
		case n == 1:
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusServiceUnavailable)
		case n == 2:
			w.Header().Set("Retry-After", "3600") // Docker Hub's rate limit may say hours
			w.WriteHeader(http.StatusTooManyRequests)
		case n == 3:
			w.WriteHeader(http.StatusBadGateway)
		default:
			w.Write(manifest)
		}
	}))
	defer srv.Close()

	tests := []struct {
		tag      string
		requests int32
		waits    []time.Duration
		err      string
	}{
		// Retry-After, then its cap, then the doubled delay when there is none.
		{"1.0", 4, []time.Duration{3 * time.Second, maxRetryAfter, 2 * time.Second}, ""},
		{"missing", 1, nil, "404 Not Found"},
		{"down", 1 + maxRetries, []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}, "503 Service Unavailable"},
	}
	for _, tt := range tests {
		requests.Store(0)
		repo := testRepository(t, srv, "app")
		waits := recordWaits(repo)
		_, _, err := repo.Manifest(context.Background(), tt.tag)
		if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s: error %v; want %q", tt.tag, err, tt.err)
		}
		if n := requests.Load(); n != tt.requests || !slices.Equal(*waits, tt.waits) {
			t.Errorf("%s: %d requests, waits %v; want %d, %v", tt.tag, n, *waits, tt.requests, tt.waits)
		}
	}
}

// A dial error that may pass is retried; a refused connection is not.
func TestDialErrors(t *testing.T) {
	blob := []byte("blob")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(blob) }))
	defer srv.Close()
	repo := testRepository(t, srv, "app")
	waits := recordWaits(repo)
	dial := repo.client.Transport.(*http.Transport).DialContext
	failures := 2
	repo.client.Transport.(*http.Transport).DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if failures > 0 {
			failures--
			return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.EHOSTUNREACH}
		}
		return dial(ctx, network, addr)
	}
	if got := readBlob(t, repo, image.Descriptor{Size: int64(len(blob)), Digest: image.DigestOf(blob)}); got != string(blob) || len(*waits) != 2 {
		t.Errorf("blob %q after %d retries; want %q after 2", got, len(*waits), blob)
	}

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close() // nothing listens at its address now
	repo = testRepository(t, closed, "app")
	waits = recordWaits(repo)
	_, _, err := repo.Manifest(context.Background(), "latest")
	if !errors.Is(err, syscall.ECONNREFUSED) || len(*waits) != 0 {
		t.Errorf("error %v after %d retries; want connection refused, no retry", err, len(*waits))
	}
}

// trickle writes data one byte at a time, every, until the client hangs
// up; a registry that keeps a pull for hours so.
func trickle(w http.ResponseWriter, r *http.Request, data []byte, every time.Duration) {
	for i := range data {
		w.Write(data[i : i+1])
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			return
		case <-time.After(every):
		}
	}
}

// A blob must bring blobMinBytes in every blobWindow of waiting: one that
// stops, or trickles, fails; one that comes fast enough does, even when
// its reader pauses between two reads.
func TestSlowBlobs(t *testing.T) {
	blob := []byte(strings.Repeat("the whole blob ", 100))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.Contains(r.URL.Path, "/stalled/"):
			w.Write(blob[:9])
			w.(http.Flusher).Flush()
			<-r.Context().Done() // and then nothing, until the client hangs up
		case strings.Contains(r.URL.Path, "/trickled/"):
			trickle(w, r, blob, 10*time.Millisecond) // 100 bytes/s
		default:
			w.Write(blob)
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	desc := image.Descriptor{Size: int64(len(blob)), Digest: image.DigestOf(blob)}
	repo := testRepository(t, srv, "app")
	repo.blobMinBytes, repo.blobWindow = 500, 300*time.Millisecond // 1667 bytes/s

	rc, err := repo.OpenBlob(t.Context(), desc)
	if err != nil {
		t.Fatalf("OpenBlob: %v", err)
	}
	first := make([]byte, 3)
	if _, err := io.ReadFull(rc, first); err != nil {
		t.Fatalf("read: %v", err)
	}
	time.Sleep(2 * repo.blobWindow)
	rest, err := io.ReadAll(rc)
	rc.Close()
	if string(first)+string(rest) != string(blob) || err != nil {
		t.Errorf("read %d bytes, error %v after a pause; want %d bytes", len(first)+len(rest), err, len(blob))
	}

	for _, tt := range []struct{ path, got string }{
		{"/stalled", "only 9 bytes"},
		{"/trickled", "only "}, // about 30 bytes
	} {
		repo.url = srv.URL + "/v2/app" + tt.path
		start := time.Now()
		rc, err := repo.OpenBlob(t.Context(), desc)
		if err != nil {
			t.Fatalf("OpenBlob: %v", err)
		}
		_, err = io.ReadAll(rc)
		rc.Close()
		want := host + " sent " + tt.got
		wantEnd := " of blob " + string(desc.Digest) + " in 300ms, and a blob must bring at least 500 bytes in every 300ms (1667 bytes/s): " + tooSlowAdvice
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasSuffix(err.Error(), wantEnd) {
			t.Errorf("%s: error %v; want %q ... %q", tt.path, err, want, wantEnd)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("%s: failed after %v; want about %v", tt.path, took, repo.blobWindow)
		}
	}
}

// A manifest or a token must come whole within documentTimeout: one that
// trickles, or whose answer never starts, fails then.
func TestSlowDocuments(t *testing.T) {
	manifest, _ := testManifest(t, []byte("layer"))
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v2/app/manifests/trickled":
			trickle(w, r, manifest, 20*time.Millisecond)
		case "/v2/app/manifests/silent":
			<-r.Context().Done() // no answer at all
		case "/v2/app/manifests/token":
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+srv.URL+`/token"`)
			w.WriteHeader(http.StatusUnauthorized)
		case "/token":
			trickle(w, r, []byte(`{"token": "s3cret"}`), 20*time.Millisecond)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	repo := testRepository(t, srv, "app")
	repo.documentTimeout = 300 * time.Millisecond

	for _, tt := range []struct{ tag, message string }{
		{"trickled", "read manifest trickled: " + host + " sent only "},
		{"trickled", " of the manifest within 300ms, the most it may take: " + tooSlowAdvice},
		{"silent", host + " sent no answer (for the manifest) within 300ms: " + tooSlowAdvice},
		{"token", host + " sent only "},
		{"token", " of the token within 300ms, the most it may take: " + tooSlowAdvice},
	} {
		start := time.Now()
		_, _, err := repo.Manifest(t.Context(), tt.tag)
		if err == nil || !strings.Contains(err.Error(), tt.message) {
			t.Errorf("%s: error %v; want %q", tt.tag, err, tt.message)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("%s: failed after %v; want about %v", tt.tag, took, repo.documentTimeout)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		value string
		want  time.Duration
	}{
		{"", time.Second}, // the delay
		{"0", 0},
		{"7", 7 * time.Second},
		{"99999999999999999", maxRetryAfter},
		{"-3", time.Second},
		{"soon", time.Second},
		{time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat), 0},
		{time.Now().Add(time.Hour).UTC().Format(http.TimeFormat), maxRetryAfter},
	}
	for _, tt := range tests {
		resp := &http.Response{Header: http.Header{"Retry-After": {tt.value}}}
		if got := retryAfter(resp, time.Second); got != tt.want {
			t.Errorf("retryAfter(%q) = %v; want %v", tt.value, got, tt.want)
		}
	}
}
