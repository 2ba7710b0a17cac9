//chapter:5

package registry

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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
	if err != nil || (realm.Scheme != "https" && realm.Scheme != "http") {
		return fmt.Errorf("the registry sent a token realm that is not a URL: %q", params["realm"])
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
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return responseError(realm.String(), resp)
	}
	// The distribution spec's token servers send "token"; OAuth 2 ones
	// send "access_token"; many send both.
	var answer struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&answer); err != nil {
		return fmt.Errorf("read the token from %s: %w", realm.Redacted(), err)
	}
	r.token = cmp.Or(answer.Token, answer.AccessToken)
	if r.token == "" {
		return fmt.Errorf("the token service %s sent no token", realm.Redacted())
	}
	return nil
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
