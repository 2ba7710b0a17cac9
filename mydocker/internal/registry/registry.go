//chapter:5

// Package registry pulls images from a registry that speaks the OCI
// distribution API (Docker Hub, Debian's docker-registry, ...): the
// manifests and blobs of one repository, without a login, over HTTPS or,
// for a registry on this machine or a private network, plain HTTP.
package registry

import (
	"context"
	"net/http"
	"net/netip"
	"strings"

	"github.com/mydocker/mydocker/mydocker/internal/image"
)

// Repository is one repository of a registry, e.g. library/busybox on
// Docker Hub. Its methods make one request at a time.
type Repository struct {
	url    string // e.g. https://registry-1.docker.io/v2/library/busybox
	name   string // e.g. library/busybox
	client *http.Client
	token  string // the bearer token, once the registry has asked for one
}

// NewRepository returns the repository of ref. It speaks plain HTTP when
// insecure is set or the registry is local (see isLocal), HTTPS otherwise.
func NewRepository(ref image.Reference, insecure bool) *Repository {
	host := ref.Registry
	if host == "docker.io" {
		host = "registry-1.docker.io" // Docker Hub's API
	}
	scheme := "https"
	if insecure || isLocal(host) {
		scheme = "http"
	}
	return &Repository{
		url:    scheme + "://" + host + "/v2/" + ref.Repository,
		name:   ref.Repository,
		client: http.DefaultClient,
	}
}

// isLocal says whether a registry's host (with or without a port) is this
// machine or on a private network: localhost and *.localhost, a loopback
// address (127.0.0.0/8, ::1) or a private one (10/8, 172.16/12,
// 192.168/16, fc00::/7). Registries there often have no TLS certificate,
// and the bytes do not cross the internet.
func isLocal(host string) bool {
	if i := strings.LastIndex(host, ":"); i > strings.LastIndex(host, "]") {
		host = host[:i] // the port
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && (addr.IsLoopback() || addr.IsPrivate())
}

// get sends a GET for url. If the registry answers 401 with a Bearer
// challenge, get fetches a token and asks once more. An answer other than
// 200 OK is an *Error; on success the caller closes the body.
func (r *Repository) get(ctx context.Context, url, accept string) (*http.Response, error) {
	resp, err := r.send(ctx, url, accept)
	if err != nil {
		return nil, err
	}
	if challenge, ok := bearerChallenge(resp); ok {
		resp.Body.Close()
		if err := r.fetchToken(ctx, challenge); err != nil {
			return nil, err
		}
		if resp, err = r.send(ctx, url, accept); err != nil {
			return nil, err
		}
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, responseError(url, resp)
	}
	return resp, nil
}

// send sends one GET, with the token if there is one. The HTTP client
// follows redirects (Docker Hub sends blobs from a CDN), and leaves the
// Authorization header behind when one leads to another host.
func (r *Repository) send(ctx context.Context, url, accept string) (*http.Response, error) {
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
	return r.client.Do(req)
}

func newRequest(ctx context.Context, url string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "mydocker")
	return req, nil
}
