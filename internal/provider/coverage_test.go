package provider

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/httpx"
)

// covClient bounds every request these tests make.
var covClient = &http.Client{Timeout: 10 * time.Second}

// covDeadURL is an address where nothing listens.
func covDeadURL(t *testing.T) string {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	return u
}

// TestUserinfoAnswers: Userinfo sends the token as a Bearer header and
// hands back whatever status, type, challenge and body came, so that the
// caller decides; only a failure to get an answer is an error.
func TestUserinfoAnswers(t *testing.T) {
	tests := []struct {
		name                   string
		status                 int
		ctype, challenge, body string
		wantErr                string
	}{
		{name: "claims", status: 200, ctype: "application/json", body: `{"sub":"alice"}`},
		{name: "signed claims", status: 200, ctype: "application/jwt", body: "a.b.c"},
		{name: "token refused", status: 401, challenge: `Bearer error="invalid_token"`},
		{name: "scope missing", status: 403, ctype: "application/json", challenge: `Bearer error="insufficient_scope"`, body: `{}`},
		{name: "server error", status: 500, ctype: "text/html", body: "<html>oops</html>"},
		{name: "body past the bound", status: 200, ctype: "application/json", body: `"` + strings.Repeat("a", httpx.MaxBody) + `"`, wantErr: "read the userinfo response: the response from"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *http.Request
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r
				if tt.ctype != "" {
					w.Header().Set("Content-Type", tt.ctype)
				}
				if tt.challenge != "" {
					w.Header().Set("WWW-Authenticate", tt.challenge)
				}
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			resp, err := Userinfo(context.Background(), covClient, srv.URL+"/userinfo", "tok-1")
			if got == nil || got.Method != http.MethodGet || got.Header.Get("Authorization") != "Bearer tok-1" || got.Header.Get("Accept") != "application/json" {
				t.Fatalf("request %+v", got)
			}
			if tt.wantErr != "" {
				var tl *httpx.TooLargeError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &tl) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tt.status || resp.ContentType != tt.ctype || resp.Challenge != tt.challenge || string(resp.Body) != tt.body {
				t.Errorf("response %d %q %q %q", resp.Status, resp.ContentType, resp.Challenge, resp.Body)
			}
		})
	}
}

func TestUserinfoUnreachable(t *testing.T) {
	dead := covDeadURL(t)
	_, err := Userinfo(context.Background(), covClient, dead+"/userinfo", "tok-1")
	if err == nil || !strings.HasPrefix(err.Error(), "call the userinfo endpoint: ") {
		t.Fatalf("err %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Userinfo(ctx, covClient, dead+"/userinfo", "tok-1"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestFromMetadata: every field of a discovery document sesame uses lands
// in its place.
func TestFromMetadata(t *testing.T) {
	md := &Metadata{
		Issuer: "https://idp", AuthorizationEndpoint: "https://idp/auth", TokenEndpoint: "https://idp/token",
		UserinfoEndpoint: "https://idp/me", JWKSURI: "https://idp/jwks", RevocationEndpoint: "https://idp/revoke",
		IntrospectionEndpoint: "https://idp/introspect", EndSessionEndpoint: "https://idp/logout",
		DeviceAuthorizationEndpoint: "https://idp/device", IssParameterSupported: true,
		IDTokenSigningAlgValuesSupported: []string{"ES256"}, CodeChallengeMethodsSupported: []string{"S256"},
		ScopesSupported: []string{"openid"}, URL: "https://idp/.well-known/openid-configuration",
	}
	want := Endpoints{
		Issuer: "https://idp", Auth: "https://idp/auth", Token: "https://idp/token", Userinfo: "https://idp/me",
		JWKS: "https://idp/jwks", Revocation: "https://idp/revoke", Introspection: "https://idp/introspect",
		EndSession: "https://idp/logout", Device: "https://idp/device", IssParameter: true,
		IDTokenAlgs: []string{"ES256"}, CodeChallengeMethods: []string{"S256"},
	}
	if got := FromMetadata(md); !reflect.DeepEqual(got, want) {
		t.Errorf("FromMetadata:\n got %+v\nwant %+v", got, want)
	}
}

func TestSupportsS256(t *testing.T) {
	tests := []struct {
		methods []string
		want    bool
	}{
		{nil, true}, // not advertised: the benefit of the doubt
		{[]string{"S256"}, true},
		{[]string{"plain", "S256"}, true},
		{[]string{"plain"}, false},
		{[]string{"s256"}, false},
	}
	for _, tt := range tests {
		if got := (Endpoints{CodeChallengeMethods: tt.methods}).SupportsS256(); got != tt.want {
			t.Errorf("%q: %v", tt.methods, got)
		}
	}
}

func TestIsOIDC(t *testing.T) {
	for _, tt := range []struct {
		ep   Endpoints
		want bool
	}{
		{Endpoints{Issuer: "https://idp", JWKS: "https://idp/jwks"}, true},
		{Endpoints{Issuer: "https://idp"}, false},
		{Endpoints{JWKS: "https://idp/jwks"}, false},
	} {
		if tt.ep.IsOIDC() != tt.want {
			t.Errorf("%+v: IsOIDC %v", tt.ep, !tt.want)
		}
	}
}

// TestResolveMergesEachOverride: each endpoint the profile names wins over
// the discovered one, and only that one.
func TestResolveMergesEachOverride(t *testing.T) {
	var base string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(doc(base, map[string]any{
			"userinfo_endpoint": base + "/me", "revocation_endpoint": base + "/revoke",
			"introspection_endpoint": base + "/introspect", "end_session_endpoint": base + "/logout",
			"device_authorization_endpoint": base + "/device", "id_token_signing_alg_values_supported": []string{"ES256"},
		})))
	}))
	defer srv.Close()
	base = srv.URL
	discovered := Endpoints{
		Issuer: base, Auth: base + "/auth", Token: base + "/token", Userinfo: base + "/me", JWKS: base + "/jwks",
		Revocation: base + "/revoke", Introspection: base + "/introspect", EndSession: base + "/logout",
		Device: base + "/device", IDTokenAlgs: []string{"ES256"},
	}
	got, err := Resolve(context.Background(), covClient, Endpoints{Issuer: base})
	if err != nil || !reflect.DeepEqual(got, discovered) {
		t.Fatalf("no overrides:\n got %+v, %v\nwant %+v", got, err, discovered)
	}
	fields := []func(*Endpoints) *string{
		func(e *Endpoints) *string { return &e.Auth },
		func(e *Endpoints) *string { return &e.Token },
		func(e *Endpoints) *string { return &e.Userinfo },
		func(e *Endpoints) *string { return &e.JWKS },
		func(e *Endpoints) *string { return &e.Revocation },
		func(e *Endpoints) *string { return &e.Introspection },
		func(e *Endpoints) *string { return &e.EndSession },
		func(e *Endpoints) *string { return &e.Device },
	}
	for i, field := range fields {
		override := Endpoints{Issuer: base}
		*field(&override) = "https://broker.example/override"
		want := discovered
		*field(&want) = "https://broker.example/override"
		got, err := Resolve(context.Background(), covClient, override)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("override %d:\n got %+v, %v\nwant %+v", i, got, err, want)
		}
	}
}

// TestResolveDiscoveryFails: a discovery failure is Resolve's failure, and
// explicit endpoints do not paper over it.
func TestResolveDiscoveryFails(t *testing.T) {
	dead := covDeadURL(t)
	_, err := Resolve(context.Background(), covClient, Endpoints{Issuer: dead, Auth: "https://a/auth", Token: "https://a/token"})
	if err == nil || !strings.Contains(err.Error(), "could not reach "+dead+"/.well-known/openid-configuration") {
		t.Errorf("unreachable issuer: %v", err)
	}
	if _, err := Resolve(context.Background(), covClient, Endpoints{Issuer: "idp.example"}); err == nil || !strings.Contains(err.Error(), "not an absolute URL") {
		t.Errorf("relative issuer: %v", err)
	}
	if _, err := Resolve(context.Background(), covClient, Endpoints{}); err == nil || !strings.Contains(err.Error(), "no provider configured") {
		t.Errorf("nothing configured: %v", err)
	}
}

// TestHeaderType reads typ from a compact JWS's header, and anything that
// is not one has none.
func TestHeaderType(t *testing.T) {
	b64 := base64.RawURLEncoding.EncodeToString
	tests := []struct {
		raw, want string
	}{
		{b64([]byte(`{"alg":"RS256","typ":"at+jwt"}`)) + ".e30.sig", "at+jwt"},
		{b64([]byte(`{"alg":"RS256"}`)) + ".e30.sig", ""},
		{"", ""},
		{"!!!.e30.sig", ""},
		{b64([]byte(`not json`)) + ".e30.sig", ""},
		{b64([]byte(`{"typ":7}`)) + ".e30.sig", ""},
	}
	for _, tt := range tests {
		if got := headerType(tt.raw); got != tt.want {
			t.Errorf("headerType(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}
