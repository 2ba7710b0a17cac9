//chapter:5

package registry

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// newClient returns the HTTP client of one repository: Go's default
// transport with a limit on the wait for an answer, and checkRedirect.
func newClient() *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// A server that takes the request and never answers would otherwise
	// hold the pull for ever.
	transport.ResponseHeaderTimeout = 30 * time.Second
	return &http.Client{Transport: transport, CheckRedirect: checkRedirect}
}

// checkRedirect is the client's rule for redirects, stricter than Go's:
// Go keeps the Authorization header on a redirect to the same host name
// on another port or scheme, or to a subdomain, all of which may be
// another server. The token is for the registry alone, so it goes only to
// the scheme, host and port of the first request. A redirect elsewhere
// still works without it: Docker Hub sends blobs from a CDN that needs
// none (the URL is signed).
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	first := via[0].URL
	if first.Scheme == "https" && req.URL.Scheme != "https" {
		// What TLS protects would then cross the network in clear.
		return fmt.Errorf("refused a redirect from HTTPS to plain HTTP: %s", req.URL.Redacted())
	}
	if !sameOrigin(req.URL, first) {
		req.Header.Del("Authorization")
	}
	return nil
}

// sameOrigin says whether two URLs have the same scheme, host and port.
func sameOrigin(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && hostPort(a) == hostPort(b)
}

// hostPort is a URL's host and port, with the scheme's port when the URL
// names none: https://Example.com is example.com:443.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}
