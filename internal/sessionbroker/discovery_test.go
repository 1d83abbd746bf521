package sessionbroker

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/brokerclient"
	"github.com/sesame-cli/sesame/internal/sessions"
)

func TestDiscoveryUnderTheIssuersPath(t *testing.T) {
	hs := newHarness(t, harnessOptions{path: "/auth"})
	md, err := brokerclient.Discover(context.Background(), hs.srv.Client(), hs.issuer)
	if err != nil {
		t.Fatal(err)
	}
	want := brokerclient.Metadata{
		Issuer: hs.issuer, JWKSURI: hs.issuer + "/session/jwks", TokenEndpoint: hs.issuer + "/session/token",
		RevocationEndpoint: hs.issuer + "/session/revoke", IntrospectionEndpoint: hs.issuer + "/session/introspect",
		ProvidersEndpoint: hs.issuer + "/providers", DPoPAlgs: []string{"ES256", "EdDSA"},
	}
	if md.Issuer != want.Issuer || md.JWKSURI != want.JWKSURI || md.TokenEndpoint != want.TokenEndpoint ||
		md.RevocationEndpoint != want.RevocationEndpoint || md.IntrospectionEndpoint != want.IntrospectionEndpoint ||
		md.ProvidersEndpoint != want.ProvidersEndpoint || !slices.Equal(md.DPoPAlgs, want.DPoPAlgs) {
		t.Errorf("metadata:\n got %+v\nwant %+v", *md, want)
	}
	a := hs.get(t, "/.well-known/openid-configuration")
	for name, v := range map[string][]string{
		"grant_types_supported":                 {"authorization_code", "refresh_token"},
		"token_endpoint_auth_methods_supported": {"none"},
	} {
		if jsonOf(a.body[name]) != jsonOf(v) {
			t.Errorf("%s = %v, want %v", name, a.body[name], v)
		}
	}
	// Routes live under the issuer's path only.
	if a := hs.getURL(t, hs.srv.URL+"/session/jwks"); a.status != http.StatusNotFound || a.str("error") != "invalid_request" {
		t.Errorf("outside the issuer's path: HTTP %d %v", a.status, a.body)
	}
	if got := hs.h.Paths(); !slices.Contains(got, "/auth/session/token") || len(got) != 6 {
		t.Errorf("Paths() = %v", got)
	}
}

func TestJWKSAndProviders(t *testing.T) {
	hs := newHarness(t, harnessOptions{})
	resp, err := hs.srv.Client().Get(hs.issuer + "/session/jwks")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("jwks Content-Type = %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=300") {
		t.Errorf("jwks Cache-Control = %q", cc)
	}
	if string(body) != string(hs.keys.JWKS()) {
		t.Errorf("jwks = %s, want the keys' JWKS", body)
	}

	ps, err := brokerclient.ListProviders(context.Background(), hs.srv.Client(), hs.issuer)
	if err != nil {
		t.Fatal(err)
	}
	if ps.MaxAge != 300 || len(ps.Providers) != 2 {
		t.Fatalf("providers = %+v", ps)
	}
	alpha, err := ps.Find("alpha")
	if err != nil {
		t.Fatal(err)
	}
	if alpha.Issuer != hs.idps["alpha"].Issuer || alpha.ClientID != "alpha-client" || !slices.Equal(alpha.Scopes, DefaultScopes()) {
		t.Errorf("alpha = %+v", alpha)
	}
	raw := hs.get(t, "/providers")
	if strings.Contains(jsonOf(raw.body), "secret") {
		t.Errorf("the providers list shows a secret: %v", raw.body)
	}
}

func TestMethodsAndBodies(t *testing.T) {
	hs := newHarness(t, harnessOptions{})
	for _, c := range []struct {
		method, route, allow string
	}{
		{http.MethodGet, routeToken, "POST"}, {http.MethodPut, routeRevoke, "POST"},
		{http.MethodPost, routeJWKS, "GET, HEAD"}, {http.MethodDelete, routeMetadata, "GET, HEAD"},
	} {
		req, _ := http.NewRequest(c.method, hs.issuer+c.route, nil)
		a := hs.do(t, req)
		if a.status != http.StatusMethodNotAllowed || a.header.Get("Allow") != c.allow {
			t.Errorf("%s %s: HTTP %d, Allow %q", c.method, c.route, a.status, a.header.Get("Allow"))
		}
	}
	head, _ := http.NewRequest(http.MethodHead, hs.issuer+routeProviders, nil)
	if a := hs.do(t, head); a.status != http.StatusOK {
		t.Errorf("HEAD %s: HTTP %d", routeProviders, a.status)
	}
	req, _ := http.NewRequest(http.MethodPost, hs.issuer+routeToken, strings.NewReader(`{"grant_type":"refresh_token"}`))
	req.Header.Set("Content-Type", "application/json")
	if a := hs.do(t, req); a.status != http.StatusUnsupportedMediaType {
		t.Errorf("JSON body: HTTP %d", a.status)
	}
	big := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {strings.Repeat("a", maxBody)}}
	if a := hs.post(t, routeToken, big); a.status != http.StatusRequestEntityTooLarge {
		t.Errorf("body over 64 KiB: HTTP %d", a.status)
	}
	twice := url.Values{"grant_type": {"refresh_token", "refresh_token"}}
	wantError(t, hs.post(t, routeToken, twice), http.StatusBadRequest, "invalid_request")
	wantError(t, hs.post(t, routeToken, url.Values{"grant_type": {"password"}}), http.StatusBadRequest, "unsupported_grant_type")
	wantError(t, hs.post(t, routeToken, url.Values{}), http.StatusBadRequest, "invalid_request")
}

func TestNewRefusesBadConfigurations(t *testing.T) {
	keys, store := newKeys(t), sessions.NewMemoryStore(nil)
	up := Upstream{Name: "corp", Issuer: "https://idp.example.com", ClientID: "c", ClientSecret: "s"}
	good := Config{Issuer: "https://broker.example.com", Keys: keys, Store: store, Upstreams: []Upstream{up}}
	for _, c := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no issuer", func(c *Config) { c.Issuer = "" }, "sessions.issuer is required"},
		{"trailing slash", func(c *Config) { c.Issuer += "/" }, "ends with a slash"},
		{"plain http", func(c *Config) { c.Issuer = "http://broker.example.com" }, "must use https"},
		{"query", func(c *Config) { c.Issuer += "?x=1" }, "no query"},
		{"lifetime", func(c *Config) { c.Lifetime = time.Minute }, "sessions.lifetime"},
		{"max auth age", func(c *Config) { c.MaxAuthAge = 48 * time.Hour }, "sessions.max_auth_age"},
		{"no keys", func(c *Config) { c.Keys = nil }, "no signing keys"},
		{"no store", func(c *Config) { c.Store = nil }, "no store"},
		{"no upstreams", func(c *Config) { c.Upstreams = nil }, "no provider"},
		{"no name", func(c *Config) { c.Upstreams[0].Name = "" }, "has no name"},
		{"bad name", func(c *Config) { c.Upstreams[0].Name = "a b" }, "a name has"},
		{"twice", func(c *Config) { c.Upstreams = append(c.Upstreams, up) }, "named twice"},
		{"no secret", func(c *Config) { c.Upstreams[0].ClientSecret = "" }, "client secret"},
		{"auth method", func(c *Config) { c.Upstreams[0].AuthMethod = "private_key_jwt" }, "auth_method"},
		{"no openid", func(c *Config) { c.Upstreams[0].Scopes = []string{"email"} }, "must include openid"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := good
			cfg.Upstreams = []Upstream{up}
			c.edit(&cfg)
			_, err := New(context.Background(), cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("New: %v, want an error with %q", err, c.want)
			}
			if strings.Contains(err.Error(), up.ClientSecret+"\"") {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
}

func TestNewNamesTheUpstreamItCannotDiscover(t *testing.T) {
	gone := httptest.NewServer(http.NotFoundHandler())
	defer gone.Close()
	_, err := New(context.Background(), Config{
		Issuer: "https://broker.example.com", Keys: newKeys(t), Store: sessions.NewMemoryStore(nil),
		Upstreams: []Upstream{{Name: "corp", Issuer: gone.URL, ClientID: "c", ClientSecret: "s"}},
	})
	if err == nil || !strings.Contains(err.Error(), `session provider "corp"`) {
		t.Fatalf("New: %v", err)
	}
}

func (hs *harness) get(t testing.TB, route string) answer { return hs.getURL(t, hs.issuer+route) }

func (hs *harness) getURL(t testing.TB, u string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return hs.do(t, req)
}

func jsonOf(v any) string { b, _ := json.Marshal(v); return string(b) }
