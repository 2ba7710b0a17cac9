//chapter:images

package registry

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// bearerChallenge returns the Bearer challenge of a 401 answer, e.g.
//
//	WWW-Authenticate: Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"
//
// which says: get a token from the realm, then ask again. Docker Hub asks
// so even for images that anyone may pull.
func bearerChallenge(resp *http.Response) (string, bool) {
	if resp.StatusCode != http.StatusUnauthorized {
		return "", false
	}
	for _, challenge := range resp.Header.Values("WWW-Authenticate") {
		scheme, _, _ := strings.Cut(challenge, " ")
		if strings.EqualFold(scheme, "Bearer") {
			return challenge, true
		}
	}
	return "", false // e.g. Basic: a login, which mydocker does not have
}

// fetchToken asks the challenge's realm, without credentials, for a token
// that may pull this repository, and keeps it for the next requests.
func (r *Repository) fetchToken(ctx context.Context, challenge string) error {
	params := challengeParams(challenge)
	realm, err := url.Parse(params["realm"])
	if err != nil || (realm.Scheme != "https" && realm.Scheme != "http") || realm.Host == "" {
		return fmt.Errorf("the registry sent a token realm that is not a URL: %q", params["realm"])
	}
	registry, err := url.Parse(r.url)
	if err != nil {
		return err
	}
	if err := checkRealm(realm, registry, r.insecure); err != nil {
		return err
	}
	query := realm.Query()
	if params["service"] != "" {
		query.Set("service", params["service"])
	}
	query.Set("scope", "repository:"+r.name+":pull")
	realm.RawQuery = query.Encode()

	req, err := newRequest(ctx, realm.String())
	if err != nil {
		return err
	}
	// A redirect of the token request must pass the same check: else
	// the realm could be a public server that redirects inside.
	client := *r.client
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := checkRealm(req.URL, registry, r.insecure); err != nil {
			return err
		}
		return r.checkRedirect(req, via)
	}
	resp, err := r.do(&client, req, r.documentLimit("the token"))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return responseError(realm.Redacted(), resp)
	}
	// The distribution spec's token servers send "token"; OAuth 2 ones
	// send "access_token"; many send both. A map, not a struct: Go would
	// match a struct's fields without regard to case, and take the
	// "Token" of an answer that is not from a token server at all.
	var answer map[string]any
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&answer); err != nil {
		return fmt.Errorf("read the token from %s: %w", realm.Redacted(), err)
	}
	token, _ := answer["token"].(string)
	accessToken, _ := answer["access_token"].(string)
	r.token = cmp.Or(token, accessToken)
	if r.token == "" {
		return fmt.Errorf("the token service %s sent no token", realm.Redacted())
	}
	return nil
}

// checkRealm refuses a token realm that would make mydocker fetch what it
// should not, and send the answer back to the registry as a token
// (server-side request forgery):
//
//   - plain HTTP when the registry speaks HTTPS, where anyone on the way
//     could read or change the token;
//   - plain HTTP to another machine, unless insecure (--insecure): as for
//     the registry, plain HTTP goes only to a loopback address or
//     localhost, written as such. A name is not looked up: one that leads
//     to 127.0.0.1 would otherwise pass as another machine;
//   - an address of this machine or its networks (loopback, private,
//     link-local such as a cloud's metadata service at 169.254.169.254),
//     unless the realm is the registry's own host and port.
func checkRealm(realm, registry *url.URL, insecure bool) error {
	if realm.Scheme != "https" && !(realm.Scheme == "http" && registry.Scheme == "http") {
		return fmt.Errorf("refused the token realm %s: the registry speaks HTTPS, the realm does not", realm.Redacted())
	}
	if realm.Scheme == "http" && !insecure && !isLoopback(realm.Host) {
		return fmt.Errorf("refused the token realm %s: plain HTTP goes only to this machine (127.0.0.0/8, ::1 or localhost) "+
			"unless you pull with --insecure, which trusts the network on the way", realm.Redacted())
	}
	if hostPort(realm) != hostPort(registry) && isInternal(realm) {
		return fmt.Errorf("refused the token realm %s: it is on an internal address, and not the registry's", realm.Redacted())
	}
	return nil
}

// isInternal says whether a URL's host is this machine or on its networks:
// see isLoopback; a name ending in .localhost, meant for this machine; a
// private address (10/8, 172.16/12, 192.168/16, fc00::/7); a link-local
// one (169.254/16, fe80::/10); or 0.0.0.0 and ::, which reach this
// machine. A host name is not looked up, so over HTTPS a name that leads
// to such an address passes; but the service there must then prove with
// a certificate that it is that name, before it gets a request.
func isInternal(u *url.URL) bool {
	if isLoopback(u.Host) || strings.HasSuffix(strings.ToLower(u.Hostname()), ".localhost") {
		return true
	}
	addr, err := netip.ParseAddr(u.Hostname())
	if err != nil {
		return false
	}
	addr = addr.Unmap() // ::ffff:10.0.0.1 is 10.0.0.1
	return addr.IsPrivate() || addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() || addr.IsUnspecified()
}

// challengeParams reads the parameters of a challenge: key="value" pairs
// after the scheme, separated by commas. A quoted value may hold commas
// (scope="repository:a:pull,push") and backslash escapes.
func challengeParams(challenge string) map[string]string {
	params := map[string]string{}
	_, rest, _ := strings.Cut(challenge, " ")
	for {
		rest = strings.TrimLeft(rest, " ,")
		key, after, ok := strings.Cut(rest, "=")
		if !ok {
			return params
		}
		var value strings.Builder
		if quoted, ok := strings.CutPrefix(after, `"`); ok {
			i := 0
			for ; i < len(quoted) && quoted[i] != '"'; i++ {
				if quoted[i] == '\\' && i+1 < len(quoted) {
					i++
				}
				value.WriteByte(quoted[i])
			}
			rest = quoted[min(i+1, len(quoted)):]
		} else {
			plain, next, _ := strings.Cut(after, ",")
			value.WriteString(strings.TrimSpace(plain))
			rest = next
		}
		params[strings.ToLower(strings.TrimSpace(key))] = value.String()
	}
}
