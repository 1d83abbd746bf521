package brokerclient

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func serve(t *testing.T, md func(base string) map[string]any, providers any) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(md(srv.URL))
		case "/providers":
			json.NewEncoder(w).Encode(providers)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func good(base string) map[string]any {
	return map[string]any{"issuer": base, "jwks_uri": base + "/session/jwks", "token_endpoint": base + "/session/token",
		"revocation_endpoint": base + "/session/revoke", "introspection_endpoint": base + "/session/introspect",
		"providers_endpoint": base + "/providers", "dpop_signing_alg_values_supported": []string{"ES256"}}
}

func TestDiscover(t *testing.T) {
	for _, tc := range []struct {
		name    string
		md      func(string) map[string]any
		wantErr string
	}{
		{"session mode", good, ""},
		{"a pass-through broker", func(string) map[string]any { return map[string]any{} }, "does not offer sessions"},
		{"an endpoint on another origin", func(b string) map[string]any {
			m := good(b)
			m["token_endpoint"] = "https://elsewhere.example/token"
			return m
		}, "not on its issuer's origin"},
		{"plain http on a public host", func(b string) map[string]any {
			m := good(b)
			m["issuer"] = "http://broker.example"
			return m
		}, "unusable issuer"},
		{"terminal escapes in a hostile issuer", func(b string) map[string]any {
			m := good(b)
			m["issuer"] = "\x1b[2Jhttp://x"
			return m
		}, "unusable issuer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, tc.md, nil)
			md, err := Discover(context.Background(), srv.Client(), srv.URL)
			switch {
			case tc.wantErr == "" && (err != nil || md.TokenEndpoint != srv.URL+"/session/token"):
				t.Fatalf("%+v %v", md, err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			case err != nil && strings.ContainsRune(err.Error(), 0x1b):
				t.Fatalf("the broker's text reached the message raw: %q", err)
			}
		})
	}
}

func TestProviders(t *testing.T) {
	ps := map[string]any{"max_age": 300, "providers": []map[string]any{
		{"name": "main", "issuer": "https://idp.example", "client_id": "c1", "scopes": []string{"openid"}},
		{"name": "other", "issuer": "https://other.example", "client_id": "c2"},
	}}
	srv := serve(t, good, ps)
	got, err := ListProviders(context.Background(), srv.Client(), srv.URL)
	if err != nil || got.MaxAge != 300 || len(got.Providers) != 2 {
		t.Fatalf("%+v %v", got, err)
	}
	if p, err := got.Find("other"); err != nil || p.ClientID != "c2" {
		t.Fatalf("%+v %v", p, err)
	}
	if _, err := got.Find("nope"); err == nil || !strings.Contains(err.Error(), "main, other") {
		t.Fatalf("err %v, want the names it has", err)
	}
	bad := serve(t, good, map[string]any{"providers": []map[string]any{{"name": "x", "issuer": "ftp://idp.example", "client_id": "c"}}})
	if _, err := ListProviders(context.Background(), bad.Client(), bad.URL); err == nil {
		t.Fatal("a provider with an unusable issuer was accepted")
	}
}
