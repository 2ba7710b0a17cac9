//chapter:images

package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mydocker/mydocker/mydocker/internal/image"
)

// These tests talk to registries made with httptest on 127.0.0.1: the
// protocol's logic, with no other network and no DNS.

// testRepository returns the repository name of the registry srv, which
// dials only loopback (see loopbackOnly) and retries without waiting.
func testRepository(t *testing.T, srv *httptest.Server, name string) *Repository {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := image.ParseReference(u.Host + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	repo := NewRepository(ref, false) // 127.0.0.1: plain HTTP
	transport := repo.client.Transport.(*http.Transport)
	transport.DialContext = loopbackOnly(t, nil)
	if srv.TLS != nil { // an httptest.NewTLSServer: HTTPS, with its certificate trusted
		repo.url = srv.URL + "/v2/" + name
		transport.TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	}
	repo.wait = func(context.Context, time.Duration) error { return nil }
	return repo
}

// loopbackOnly returns a dialer that connects to loopback addresses, and
// to the names in names as the addresses they map to, and fails the test
// on anything else: no name is looked up, nothing else is contacted.
func loopbackOnly(t *testing.T, names map[string]string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if to, ok := names[addr]; ok {
			addr = to
		}
		host, _, _ := net.SplitHostPort(addr)
		if ip, err := netip.ParseAddr(host); err != nil || !ip.IsLoopback() {
			t.Errorf("dialled %s; the tests dial only loopback", addr)
			return nil, errors.New("not loopback")
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
}

// testManifest is an image manifest of one layer, and that layer.
func testManifest(t *testing.T, layer []byte) ([]byte, image.Descriptor) {
	t.Helper()
	desc := image.Descriptor{MediaType: image.MediaTypeDockerLayer, Size: int64(len(layer)), Digest: image.DigestOf(layer)}
	data, err := json.Marshal(image.Manifest{SchemaVersion: 2, MediaType: image.MediaTypeOCIManifest, Layers: []image.Descriptor{desc}})
	if err != nil {
		t.Fatal(err)
	}
	return data, desc
}

func TestAnonymousTokenIsFetchedOnceAndSent(t *testing.T) {
	for _, field := range []string{"token", "access_token"} {
		t.Run(field, func(t *testing.T) {
			layer := []byte("layer bytes")
			manifest, layerDesc := testManifest(t, layer)
			var tokenRequests atomic.Int32
			var srv *httptest.Server
			srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("User-Agent") != "mydocker" {
					t.Errorf("%s: User-Agent %q; want mydocker", r.URL.Path, r.Header.Get("User-Agent"))
				}
				if r.URL.Path == "/token" {
					tokenRequests.Add(1)
					q := r.URL.Query()
					if q.Get("service") != "test-registry" || q.Get("scope") != "repository:team/app:pull" {
						t.Errorf("token request %s; want service=test-registry and scope=repository:team/app:pull", r.URL.RawQuery)
					}
					if r.Header.Get("Authorization") != "" {
						t.Errorf("token request sent Authorization %q; want none", r.Header.Get("Authorization"))
					}
					fmt.Fprintf(w, `{%q: "s3cret"}`, field)
					return
				}
				if r.Header.Get("Authorization") != "Bearer s3cret" {
					w.Header().Set("WWW-Authenticate", `Bearer realm="`+srv.URL+`/token",service="test-registry",scope="repository:team/app:pull"`)
					w.WriteHeader(http.StatusUnauthorized)
					fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
					return
				}
				switch r.URL.Path {
				case "/v2/team/app/manifests/1.0":
					w.Header().Set("Content-Type", image.MediaTypeOCIManifest)
					w.Write(manifest)
				case "/v2/team/app/blobs/" + string(layerDesc.Digest):
					w.Write(layer)
				default:
					http.NotFound(w, r)
				}
			}))
			defer srv.Close()

			repo := testRepository(t, srv, "team/app")
			data, digest, err := repo.Manifest(context.Background(), "1.0")
			if err != nil {
				t.Fatalf("Manifest: %v", err)
			}
			if string(data) != string(manifest) || digest != image.DigestOf(manifest) {
				t.Errorf("Manifest = %s, %s; want %s, %s", data, digest, manifest, image.DigestOf(manifest))
			}
			if got := readBlob(t, repo, layerDesc); got != string(layer) {
				t.Errorf("blob = %q; want %q", got, layer)
			}
			if n := tokenRequests.Load(); n != 1 {
				t.Errorf("%d token requests; want 1, the token kept for the blob", n)
			}
		})
	}
}

// tokenlessServer serves blob on loopback, and fails the test if a request
// brings an Authorization header: it is not the registry (who says which).
func tokenlessServer(t *testing.T, who string, blob []byte) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Errorf("%s got Authorization %q; want none", who, r.Header.Get("Authorization"))
		}
		w.Write(blob)
	}))
}

// requireToken fails the test unless r brings the registry's token.
func requireToken(t *testing.T, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer s3cret" {
		t.Errorf("registry got Authorization %q", r.Header.Get("Authorization"))
	}
}

func readBlob(t *testing.T, repo *Repository, desc image.Descriptor) string {
	t.Helper()
	rc, err := repo.OpenBlob(context.Background(), desc)
	if err != nil {
		t.Fatalf("OpenBlob: %v", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read blob: %v", err)
	}
	return string(data)
}

func TestIndexGivesThisMachinesImage(t *testing.T) {
	other := "s390x"
	if runtime.GOARCH == other {
		other = "amd64"
	}
	manifests := map[string][]byte{}
	var entries []image.Descriptor
	for _, p := range []image.Platform{
		{OS: "unknown", Architecture: "unknown"},
		{OS: "windows", Architecture: runtime.GOARCH},
		{OS: "linux", Architecture: other},
		{OS: "linux", Architecture: runtime.GOARCH, Variant: hostPlatform().Variant},
	} {
		data, _ := testManifest(t, []byte("layer of "+platformName(p)))
		manifests[string(image.DigestOf(data))] = data
		entries = append(entries, image.Descriptor{MediaType: image.MediaTypeOCIManifest, Size: int64(len(data)), Digest: image.DigestOf(data), Platform: &p})
	}
	index, err := json.Marshal(image.Index{SchemaVersion: 2, MediaType: image.MediaTypeOCIIndex, Manifests: entries})
	if err != nil {
		t.Fatal(err)
	}
	manifests["latest"] = index
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, mediaType := range []string{image.MediaTypeOCIIndex, image.MediaTypeDockerList, image.MediaTypeOCIManifest, image.MediaTypeDockerManifest} {
			if !strings.Contains(r.Header.Get("Accept"), mediaType) {
				t.Errorf("Accept %q lacks %s", r.Header.Get("Accept"), mediaType)
			}
		}
		data, ok := manifests[strings.TrimPrefix(r.URL.Path, "/v2/app/manifests/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		var fields struct{ MediaType string }
		json.Unmarshal(data, &fields)
		w.Header().Set("Content-Type", fields.MediaType)
		w.Write(data)
	}))
	defer srv.Close()

	data, digest, err := testRepository(t, srv, "app").Manifest(context.Background(), "latest")
	if err != nil {
		t.Fatalf("Manifest: %v", err)
	}
	if want := entries[3].Digest; digest != want || image.DigestOf(data) != want {
		t.Errorf("Manifest gave %s; want the linux/%s image %s", digest, runtime.GOARCH, want)
	}
}

func TestMediaType(t *testing.T) {
	tests := []struct {
		name, data, contentType, want string
	}{
		{"the field", `{"mediaType": "` + image.MediaTypeDockerList + `"}`, image.MediaTypeOCIManifest, image.MediaTypeDockerList},
		{"the header", `{"layers": []}`, image.MediaTypeDockerManifest + "; charset=utf-8", image.MediaTypeDockerManifest},
		{"an index served as JSON", `{"schemaVersion": 2, "manifests": []}`, "application/json", image.MediaTypeOCIIndex},
		{"a manifest served as JSON", `{"schemaVersion": 2, "layers": []}`, "application/json", "application/json"},
		{"not JSON", `<html>`, "text/html", "text/html"},
	}
	for _, tt := range tests {
		if got := mediaType([]byte(tt.data), tt.contentType); got != tt.want {
			t.Errorf("%s: mediaType = %q; want %q", tt.name, got, tt.want)
		}
	}
}

func TestChoosePlatform(t *testing.T) {
	index := func(platforms ...string) []byte {
		var entries []image.Descriptor
		for i, p := range platforms {
			parts := append(strings.Split(p, "/"), "")
			entries = append(entries, image.Descriptor{
				Digest:   image.DigestOf([]byte{byte(i)}),
				Platform: &image.Platform{OS: parts[0], Architecture: parts[1], Variant: parts[2]},
			})
		}
		data, _ := json.Marshal(image.Index{SchemaVersion: 2, Manifests: entries})
		return data
	}
	tests := []struct {
		name    string
		index   []byte
		want    image.Platform
		chosen  int    // the entry wanted, or -1 for an error
		message string // in the error
	}{
		{"arm64 with its variant", index("linux/arm/v7", "linux/arm64/v8"), image.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, 1, ""},
		{"arm64 without a variant", index("linux/amd64", "linux/arm64"), image.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, 1, ""},
		{"arm v7, not v6", index("linux/arm/v6", "linux/arm/v7"), image.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, 1, ""},
		{"no such platform", index("linux/amd64", "windows/arm64", "unknown/unknown"), image.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, -1,
			"the image is not made for linux/arm64/v8, only for: linux/amd64, windows/arm64"},
	}
	for _, tt := range tests {
		desc, err := choosePlatform(tt.index, tt.want)
		if tt.chosen < 0 {
			if err == nil || err.Error() != tt.message {
				t.Errorf("%s: error %v; want %q", tt.name, err, tt.message)
			}
			continue
		}
		if err != nil || desc.Digest != image.DigestOf([]byte{byte(tt.chosen)}) {
			t.Errorf("%s: chose %v, %v; want entry %d", tt.name, desc.Platform, err, tt.chosen)
		}
	}
}

func TestWrongContentIsAnError(t *testing.T) {
	good := []byte("the blob the manifest lists")
	manifest, _ := testManifest(t, good)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.Contains(r.URL.Path, "/manifests/"):
			w.Write(append(manifest, ' ')) // not what its digest says
		case strings.Contains(r.URL.Path, "/short/"):
			w.Write(good[:5])
		default:
			w.Write([]byte(strings.ToUpper(string(good)))) // same size, other bytes
		}
	}))
	defer srv.Close()
	repo := testRepository(t, srv, "app")

	_, _, err := repo.Manifest(context.Background(), string(image.DigestOf(manifest)))
	if err == nil || !strings.Contains(err.Error(), "is corrupt") {
		t.Errorf("Manifest by digest, wrong bytes: error %v; want corrupt", err)
	}
	desc := image.Descriptor{Size: int64(len(good)), Digest: image.DigestOf(good)}
	for _, tt := range []struct{ suffix, message string }{
		{"", "is corrupt: its contents hash to sha256:"},
		{"/short", "has 5 bytes, not 27"},
	} {
		repo.url = srv.URL + "/v2/app" + tt.suffix
		rc, err := repo.OpenBlob(context.Background(), desc)
		if err != nil {
			t.Fatalf("OpenBlob: %v", err)
		}
		_, err = io.ReadAll(rc)
		rc.Close()
		if err == nil || !strings.Contains(err.Error(), tt.message) {
			t.Errorf("blob%s: error %v; want %q", tt.suffix, err, tt.message)
		}
	}
	repo.url = srv.URL + "/v2/app"
	short := image.Descriptor{Size: 3, Digest: desc.Digest}
	rc, err := repo.OpenBlob(context.Background(), short)
	if err != nil {
		t.Fatalf("OpenBlob: %v", err)
	}
	defer rc.Close()
	if _, err := io.ReadAll(rc); err == nil || !strings.Contains(err.Error(), "is longer than the 3 bytes") {
		t.Errorf("blob longer than its size: error %v", err)
	}
}

func TestRegistryErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v2/app/manifests/missing":
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`)
		case "/v2/private/manifests/latest":
			w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
		default:
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html>proxy error</html>")
		}
	}))
	defer srv.Close()
	tests := []struct {
		repo, tag string
		code      int
		codes     []string
		message   string
	}{
		{"app", "missing", 404, []string{"MANIFEST_UNKNOWN"}, "/v2/app/manifests/missing: 404 Not Found: MANIFEST_UNKNOWN: manifest unknown"},
		{"private", "latest", 401, []string{"UNAUTHORIZED"}, "401 Unauthorized: UNAUTHORIZED: authentication required"},
		{"app", "latest", 502, nil, "502 Bad Gateway: <html>proxy error</html>"},
	}
	for _, tt := range tests {
		_, _, err := testRepository(t, srv, tt.repo).Manifest(context.Background(), tt.tag)
		var rerr *Error
		if !errors.As(err, &rerr) {
			t.Errorf("%s:%s: error %v; want an *Error", tt.repo, tt.tag, err)
			continue
		}
		if rerr.StatusCode != tt.code || (tt.codes != nil && !rerr.HasCode(tt.codes...)) || !strings.HasSuffix(err.Error(), tt.message) {
			t.Errorf("%s:%s: %d %v %q; want %d %v ...%q", tt.repo, tt.tag, rerr.StatusCode, rerr.Codes, err, tt.code, tt.codes, tt.message)
		}
	}
}

// Docker Hub sends blobs from a CDN: a redirect to another host, which
// must not get the registry's token.
func TestRedirectToAnotherHostDropsTheToken(t *testing.T) {
	blob := []byte("a layer from the CDN")
	cdn := tokenlessServer(t, "the CDN", blob)
	defer cdn.Close()
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requireToken(t, r)
		http.Redirect(w, r, "http://cdn.test/blob?signature=x", http.StatusTemporaryRedirect)
	}))
	defer reg.Close()

	repo := testRepository(t, reg, "app")
	repo.token = "s3cret"
	repo.insecure = true // a CDN on plain HTTP is another machine: only with --insecure
	// The client dials the CDN's name to the CDN server.
	repo.client.Transport.(*http.Transport).DialContext = loopbackOnly(t, map[string]string{"cdn.test:80": cdn.Listener.Addr().String()})
	if got := readBlob(t, repo, image.Descriptor{Size: int64(len(blob)), Digest: image.DigestOf(blob)}); got != string(blob) {
		t.Errorf("blob = %q; want %q, from the CDN", got, blob)
	}
}

func TestChallengeParams(t *testing.T) {
	got := challengeParams(`Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push",error="insufficient \"scope\""`)
	want := map[string]string{
		"realm":   "https://auth.example/token",
		"service": "registry.example",
		"scope":   "repository:a/b:pull,push",
		"error":   `insufficient "scope"`,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("challengeParams = %v; want %v", got, want)
	}
}

func TestSchemeAndHost(t *testing.T) {
	tests := []struct {
		name     string
		insecure bool
		url      string
	}{
		{"busybox", false, "https://registry-1.docker.io/v2/library/busybox"},
		{"ghcr.io/owner/app:1", false, "https://ghcr.io/v2/owner/app"},
		{"registry.lab:5000/app", true, "http://registry.lab:5000/v2/app"},
		{"localhost:5000/app", false, "http://localhost:5000/v2/app"},
		{"localhost/app", false, "http://localhost/v2/app"},
		// A name other than localhost is looked up, and may lead anywhere: HTTPS.
		{"reg.localhost:5000/app", false, "https://reg.localhost:5000/v2/app"},
		{"127.0.0.1.nip.io:5000/app", false, "https://127.0.0.1.nip.io:5000/v2/app"},
		{"127.0.0.1:5000/app", false, "http://127.0.0.1:5000/v2/app"},
		{"127.0.0.2:5000/app", false, "http://127.0.0.2:5000/v2/app"},
		{"[::1]:5000/app", false, "http://[::1]:5000/v2/app"},
		// A private address is another machine: HTTPS, as in Docker.
		{"10.1.2.3:5000/app", false, "https://10.1.2.3:5000/v2/app"},
		{"172.16.0.1/app", false, "https://172.16.0.1/v2/app"},
		{"192.168.1.10:5000/app", false, "https://192.168.1.10:5000/v2/app"},
		{"192.168.1.10:5000/app", true, "http://192.168.1.10:5000/v2/app"},
		{"[fd00::1]:5000/app", false, "https://[fd00::1]:5000/v2/app"},
		{"8.8.8.8/app", false, "https://8.8.8.8/v2/app"},
		{"localhost.example.com/app", false, "https://localhost.example.com/v2/app"},
	}
	for _, tt := range tests {
		ref, err := image.ParseReference(tt.name)
		if err != nil {
			t.Errorf("ParseReference(%q): %v", tt.name, err)
			continue
		}
		if got := NewRepository(ref, tt.insecure).url; got != tt.url {
			t.Errorf("NewRepository(%q, insecure=%v) speaks to %s; want %s", tt.name, tt.insecure, got, tt.url)
		}
	}
}
