//chapter:images

// Package registry pulls images from a registry that speaks the OCI
// distribution API (Docker Hub, Debian's docker-registry, ...): the
// manifests and blobs of one repository, without a login, over HTTPS or,
// for a registry on this machine, plain HTTP.
package registry

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/mydocker/mydocker/mydocker/internal/image"
)

// Repository is one repository of a registry, e.g. library/busybox on
// Docker Hub. Its methods make one request at a time.
type Repository struct {
	url      string // e.g. https://registry-1.docker.io/v2/library/busybox
	name     string // e.g. library/busybox
	insecure bool   // --insecure: plain HTTP to any host (see checkRedirect)
	client   *http.Client
	token    string // the bearer token, once the registry has asked for one

	// How long to wait before the first retry (doubled for each next
	// one), how to wait, and how fast an answer must come (see
	// bodyLimit): fields, so that the tests need not wait.
	retryDelay      time.Duration
	wait            func(ctx context.Context, d time.Duration) error
	documentTimeout time.Duration
	blobMinBytes    int64
	blobWindow      time.Duration
}

// NewRepository returns the repository of ref. It speaks plain HTTP when
// insecure is set or the registry is on this machine (see isLoopback),
// HTTPS otherwise.
func NewRepository(ref image.Reference, insecure bool) *Repository {
	host := ref.Registry
	if host == "docker.io" {
		host = "registry-1.docker.io" // Docker Hub's API
	}
	scheme := "https"
	if insecure || isLoopback(host) {
		scheme = "http"
	}
	r := &Repository{
		url:             scheme + "://" + host + "/v2/" + ref.Repository,
		name:            ref.Repository,
		insecure:        insecure,
		client:          newClient(),
		retryDelay:      500 * time.Millisecond,
		wait:            sleep,
		documentTimeout: 30 * time.Second,
		blobMinBytes:    32 << 10, // in blobWindow: about 1 KiB/s
		blobWindow:      30 * time.Second,
	}
	r.client.CheckRedirect = r.checkRedirect
	return r
}

// isLoopback says whether a host (with or without a port) is this
// machine: a loopback address (127.0.0.0/8, ::1), or the name localhost,
// which the client dials at 127.0.0.1 without looking it up (see
// dialLocalhost). As in Docker, only these get plain HTTP without
// --insecure: the bytes never leave the machine. No other name does, not
// even one that ends in .localhost: what it leads to is the resolver's
// (/etc/hosts, or DNS) to say, and an answer from DNS can be anything. A
// private address (10/8, 192.168/16, ...) is another machine, and the
// network between may not be trusted.
func isLoopback(host string) bool {
	if i := strings.LastIndex(host, ":"); i > strings.LastIndex(host, "]") {
		host = host[:i] // the port
	}
	host = strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	if host == "localhost" {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}

// get sends a GET for url. If the registry answers 401 with a Bearer
// challenge, get fetches a token and asks once more. An answer other than
// 200 OK is an *Error; on success the caller closes the body, which must
// come as limit says.
func (r *Repository) get(ctx context.Context, url, accept string, limit bodyLimit) (*http.Response, error) {
	resp, err := r.send(ctx, url, accept, limit)
	if err != nil {
		return nil, err
	}
	if challenge, ok := bearerChallenge(resp); ok {
		resp.Body.Close()
		if err := r.fetchToken(ctx, challenge); err != nil {
			return nil, err
		}
		if resp, err = r.send(ctx, url, accept, limit); err != nil {
			return nil, err
		}
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, responseError(url, resp)
	}
	return resp, nil
}

// send sends a GET, with the token if there is one, and sends it again
// when the registry says to try later (see do). The client follows
// redirects (Docker Hub sends blobs from a CDN) as checkRedirect allows.
func (r *Repository) send(ctx context.Context, url, accept string, limit bodyLimit) (*http.Response, error) {
	req, err := newRequest(ctx, url)
	if err != nil {
		return nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	return r.do(r.client, req, limit)
}

func newRequest(ctx context.Context, url string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "mydocker")
	return req, nil
}
