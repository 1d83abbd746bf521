package doctor

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

type want struct {
	check  string
	status Status
	detail []string // substrings of Detail
}

func TestCraftedProviders(t *testing.T) {
	tests := []struct {
		name         string
		fake         fake
		path         string // appended to the server URL to make the issuer
		confidential bool
		wantOK       bool
		want         []want
	}{
		{name: "wrong issuer: trailing slash", fake: fake{edit: func(base string, doc map[string]any) { doc["issuer"] = base + "/" }},
			want: []want{{"issuer", StatusFail, []string{"/\", the profile says", "trailing slash"}}}},
		{name: "wrong issuer: path", path: "/tenant", fake: fake{docPath: "/tenant/.well-known/openid-configuration", edit: func(base string, doc map[string]any) { doc["issuer"] = base + "/other" }},
			want: []want{{"issuer", StatusFail, []string{"/other", "/tenant", "paths differ"}}}},
		{name: "pkce plain only", fake: fake{edit: with(map[string]any{"code_challenge_methods_supported": []string{"plain"}})},
			want: []want{{"pkce", StatusFail, []string{"plain", "no S256"}}}},
		{name: "pkce S256 and plain", wantOK: true, fake: fake{edit: with(map[string]any{"code_challenge_methods_supported": []string{"S256", "plain"}})},
			want: []want{{"pkce", StatusOK, []string{"S256, plain"}}}},
		{name: "pkce not advertised", wantOK: true, fake: fake{edit: with(map[string]any{"code_challenge_methods_supported": nil})},
			want: []want{{"pkce", StatusWarn, []string{"not advertised", "Entra"}}}},
		{name: "http endpoint off loopback", fake: fake{edit: with(map[string]any{"token_endpoint": "http://idp.example.com/token"})},
			want: []want{{"https", StatusFail, []string{"token_endpoint http://idp.example.com/token"}}}},
		{name: "html login page", fake: fake{discovery: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte("<!DOCTYPE html><html><body>Sign in</body></html>"))
		}}, want: []want{{"discovery", StatusFail, []string{"not JSON", "HTML"}}}},
		{name: "truncated json", fake: fake{discovery: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"issuer": "x"`))
		}}, want: []want{{"discovery", StatusFail, []string{"not JSON", "application/json"}}}},
		{name: "server error", fake: fake{discovery: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) }},
			want: []want{{"discovery", StatusFail, []string{"HTTP 502"}}}},
		{name: "RFC 8414 location after 404", path: "/tenant", wantOK: true, fake: fake{docPath: "/.well-known/oauth-authorization-server/tenant",
			edit: func(base string, doc map[string]any) { doc["issuer"] = base + "/tenant" }},
			want: []want{{"discovery", StatusOK, []string{"RFC 8414", "/.well-known/oauth-authorization-server/tenant"}}, {"issuer", StatusOK, []string{"/tenant"}}}},
		{name: "no document anywhere", path: "/nowhere",
			want: []want{{"discovery", StatusFail, []string{"both answered 404", "/nowhere/.well-known/openid-configuration"}}}},
		{name: "jwks unreachable", fake: fake{edit: func(_ string, doc map[string]any) { doc["jwks_uri"] = closedURL(t) + "/jwks" }},
			want: []want{{"jwks", StatusFail, []string{"refused"}}}},
		{name: "jwks 404", fake: fake{jwksStatus: http.StatusNotFound},
			want: []want{{"jwks", StatusFail, []string{"HTTP 404"}}}},
		{name: "jwks empty", fake: fake{jwks: `{"keys":[]}`},
			want: []want{{"jwks", StatusFail, []string{"no keys"}}}},
		{name: "jwks not json", fake: fake{jwks: `<html>`},
			want: []want{{"jwks", StatusFail, []string{"not a JWK Set"}}}},
		{name: "jwks symmetric key", wantOK: true, fake: fake{jwks: `{"keys":[{"kty":"oct","kid":"s1","k":"c2VjcmV0"},` + ecJWKS(t, "k1")[len(`{"keys":[`):]},
			want: []want{{"jwks", StatusWarn, []string{"s1 oct - -", "k1 EC ES256 sig", "symmetric"}}}},
		{name: "jwks only symmetric", fake: fake{jwks: `{"keys":[{"kty":"oct","kid":"s1","k":"c2VjcmV0"}]}`},
			want: []want{{"jwks", StatusFail, []string{"no usable public key"}}}},
		{name: "jwks several keys without kid", wantOK: true, fake: fake{jwks: ecJWKS(t, "", "")},
			want: []want{{"jwks", StatusWarn, []string{"2 key(s)", "without kid"}}}},
		{name: "only alg none", fake: fake{edit: with(map[string]any{"id_token_signing_alg_values_supported": []string{"none"}})},
			want: []want{{"id_token_algs", StatusFail, []string{"only none"}}}},
		{name: "only HS256", fake: fake{edit: with(map[string]any{"id_token_signing_alg_values_supported": []string{"HS256"}})},
			want: []want{{"id_token_algs", StatusFail, []string{"only HS256"}}}},
		{name: "alg none offered", wantOK: true, fake: fake{edit: with(map[string]any{"id_token_signing_alg_values_supported": []string{"RS256", "none"}})},
			want: []want{{"id_token_algs", StatusWarn, []string{"RS256, none"}}}},
		{name: "clock 5 minutes ahead", fake: fake{skew: 5 * time.Minute},
			want: []want{{"clock", StatusFail, []string{"ahead", "misbehave"}}}},
		{name: "clock 30 s behind", wantOK: true, fake: fake{skew: -30 * time.Second},
			want: []want{{"clock", StatusWarn, []string{"behind"}}}},
		{name: "cached response: Date corrected by Age", wantOK: true, fake: fake{skew: -5 * time.Minute, age: "300"},
			want: []want{{"clock", StatusOK, []string{"within"}}}},
		{name: "no Date header", wantOK: true, fake: fake{noDate: true},
			want: []want{{"clock", StatusWarn, []string{"no Date header"}}}},
		{name: "grants not advertised", wantOK: true, fake: fake{edit: with(map[string]any{"grant_types_supported": nil})},
			want: []want{{"grant_types", StatusOK, []string{"default"}}, {"refresh_token", StatusWarn, []string{"no silent refresh"}}, {"device_code", StatusWarn, []string{"login --device"}}}},
		{name: "no authorization_code grant", fake: fake{edit: with(map[string]any{"grant_types_supported": []string{"client_credentials", "refresh_token", deviceGrant}})},
			want: []want{{"grant_types", StatusFail, []string{"client_credentials"}}}},
		{name: "no code response type", fake: fake{edit: with(map[string]any{"response_types_supported": []string{"id_token"}})},
			want: []want{{"response_types", StatusFail, []string{"no code"}}}},
		{name: "public client without none", wantOK: true, fake: fake{edit: with(map[string]any{"token_endpoint_auth_methods_supported": nil})},
			want: []want{{"token_endpoint_auth", StatusWarn, []string{"none is not among", "client_secret_basic"}}}},
		{name: "broker without client secrets", confidential: true, fake: fake{edit: with(map[string]any{"token_endpoint_auth_methods_supported": []string{"private_key_jwt"}})},
			want: []want{{"token_endpoint_auth", StatusFail, []string{"sesame-broker", "private_key_jwt"}}}},
		{name: "broker with the default", confidential: true, wantOK: true, fake: fake{edit: with(map[string]any{"token_endpoint_auth_methods_supported": nil})},
			want: []want{{"token_endpoint_auth", StatusOK, []string{"client_secret_basic"}}}},
		{name: "no iss parameter, scopes or optional endpoints", wantOK: true, fake: fake{edit: with(map[string]any{
			"authorization_response_iss_parameter_supported": nil, "scopes_supported": []string{"openid"},
			"revocation_endpoint": nil, "device_authorization_endpoint": nil,
		})},
			want: []want{{"iss_parameter", StatusWarn, []string{"RFC 9207"}}, {"scopes", StatusWarn, []string{"offline_access not advertised"}},
				{"revocation_endpoint", StatusWarn, []string{"cannot revoke"}}, {"device_authorization_endpoint", StatusWarn, []string{"login --device"}}}},
		{name: "no token endpoint", fake: fake{edit: with(map[string]any{"token_endpoint": nil})},
			want: []want{{"token_endpoint", StatusFail, []string{"missing"}}}},
		{name: "OIDC without jwks_uri", fake: fake{edit: with(map[string]any{"jwks_uri": nil})},
			want: []want{{"jwks_uri", StatusFail, []string{"missing"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			issuer := tt.fake.start(t) + tt.path
			r := run(t, Options{Issuer: issuer, Confidential: tt.confidential, ClientID: "cli"})
			if r.OK != tt.wantOK {
				t.Errorf("OK = %v, want %v\n%s", r.OK, tt.wantOK, dump(r))
			}
			for _, w := range tt.want {
				it := item(t, r, w.check)
				if it.Status != w.status {
					t.Errorf("%s: status %s, want %s\n%s", w.check, it.Status, w.status, dump(r))
				}
				for _, s := range w.detail {
					if !strings.Contains(it.Detail, s) {
						t.Errorf("%s: detail %q lacks %q", w.check, it.Detail, s)
					}
				}
				if it.Status != StatusOK && it.Remedy == "" {
					t.Errorf("%s: no remedy", w.check)
				}
			}
			// Every other check passes, so a case tests exactly one thing.
			for _, it := range r.Items {
				if it.Status != StatusOK && !slices.ContainsFunc(tt.want, func(w want) bool { return w.check == it.Check }) {
					t.Errorf("unexpected %s %s: %s", it.Status, it.Check, it.Detail)
				}
			}
		})
	}
}
