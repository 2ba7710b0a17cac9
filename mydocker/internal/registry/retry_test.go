//chapter:5

package registry

import (
	"context"
	"errors"
	"fmt"
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

// A body that stops coming fails after the stall timeout; a reader that
// pauses between two reads does not.
func TestStalledBody(t *testing.T) {
	blob := []byte("the whole blob")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/stalled/") {
			w.Write([]byte("the start"))
			w.(http.Flusher).Flush()
			<-r.Context().Done() // and then nothing, until the client hangs up
			return
		}
		w.Write(blob)
	}))
	defer srv.Close()
	repo := testRepository(t, srv, "app")
	repo.stallTimeout = 50 * time.Millisecond

	rc, err := repo.OpenBlob(context.Background(), image.Descriptor{Size: int64(len(blob)), Digest: image.DigestOf(blob)})
	if err != nil {
		t.Fatalf("OpenBlob: %v", err)
	}
	first := make([]byte, 3)
	if _, err := io.ReadFull(rc, first); err != nil {
		t.Fatalf("read: %v", err)
	}
	time.Sleep(3 * repo.stallTimeout)
	rest, err := io.ReadAll(rc)
	rc.Close()
	if string(first)+string(rest) != string(blob) || err != nil {
		t.Errorf("read %q, error %v after a pause; want %q", string(first)+string(rest), err, blob)
	}

	repo.url += "/stalled"
	rc, err = repo.OpenBlob(context.Background(), image.Descriptor{Size: 100, Digest: image.DigestOf(nil)})
	if err != nil {
		t.Fatalf("OpenBlob: %v", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	want := fmt.Sprintf("the registry sent nothing for %v", repo.stallTimeout)
	if string(data) != "the start" || err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("read %q, error %v; want the start, then %q", data, err, want)
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
