//chapter:images

package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// newClient returns the HTTP client of one repository: Go's default
// transport with a limit on the wait for an answer, and a dialer that
// takes localhost for this machine (see dialLocalhost). The repository
// sets the rule for redirects (see checkRedirect).
func newClient() *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// A server that takes the request and never answers would otherwise
	// hold the pull for ever.
	transport.ResponseHeaderTimeout = 30 * time.Second
	transport.DialContext = dialLocalhost((&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext)
	return &http.Client{Transport: transport}
}

// dialLocalhost returns a dial function that connects to the name
// localhost at 127.0.0.1, without looking it up, and to any other address
// as dial does. Plain HTTP goes to localhost without --insecure (see
// isLoopback), and Go's resolver would look the name up in /etc/hosts and,
// failing that, in DNS, which may answer with any address. (A registry
// that listens only on ::1 is pulled from as [::1]:PORT.)
func dialLocalhost(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, port, err := net.SplitHostPort(addr); err == nil && strings.EqualFold(host, "localhost") {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		return dial(ctx, network, addr)
	}
}

// checkRedirect is the client's rule for redirects, stricter than Go's,
// which follows any redirect to any URL:
//
//   - Never from HTTPS to plain HTTP: what TLS protects would then cross
//     the network in clear.
//   - Plain HTTP only to this machine (see isLoopback), as for the
//     registry itself, unless the user asked for it with --insecure: a
//     registry on 127.0.0.1 may not send mydocker across the network in
//     clear. The URL's host decides, as written: nothing is looked up.
//   - The token is for the registry alone, so it goes only to the scheme,
//     host and port of the first request. Go keeps the Authorization
//     header on a redirect to the same host name on another port or
//     scheme, or to a subdomain, all of which may be another server. A
//     redirect elsewhere still works without it: Docker Hub sends blobs
//     from a CDN that needs none (the URL is signed).
//
// It runs before the client connects to the new URL.
func (r *Repository) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	from := via[len(via)-1].URL
	if req.URL.Scheme == "http" {
		for _, earlier := range via {
			if earlier.URL.Scheme == "https" {
				return fmt.Errorf("refused a redirect from HTTPS to plain HTTP: %s", req.URL.Redacted())
			}
		}
		if !r.insecure && !isLoopback(req.URL.Host) {
			return fmt.Errorf("refused a redirect from %s to %s: plain HTTP goes only to this machine "+
				"(127.0.0.0/8, ::1 or localhost) unless you pull with --insecure, which trusts the network on the way",
				from.Redacted(), req.URL.Redacted())
		}
	}
	if !sameOrigin(req.URL, via[0].URL) {
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
