package provider

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// serve answers discovery requests from a table of path → handler.
func serve(t *testing.T, routes map[string]func(base string) (int, string, string)) string {
	t.Helper()
	var base string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, ok := routes[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		code, ctype, body := h(base)
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(code)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	base = srv.URL
	return base
}

func doc(issuer string, extra map[string]any) string {
	m := map[string]any{"issuer": issuer, "authorization_endpoint": issuer + "/auth", "token_endpoint": issuer + "/token", "jwks_uri": issuer + "/jwks"}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func TestDiscover(t *testing.T) {
	ok := func(path string, extra map[string]any) func(string) (int, string, string) {
		return func(base string) (int, string, string) { return 200, "application/json", doc(base+path, extra) }
	}
	tests := []struct {
		name    string
		routes  map[string]func(string) (int, string, string)
		path    string // issuer path
		wantErr string
	}{
		{"plain", map[string]func(string) (int, string, string){"/.well-known/openid-configuration": ok("", nil)}, "", ""},
		{"issuer with path", map[string]func(string) (int, string, string){"/oidc/.well-known/openid-configuration": ok("/oidc", nil)}, "/oidc", ""},
		{"RFC 8414 fallback", map[string]func(string) (int, string, string){"/.well-known/oauth-authorization-server/tenant": ok("/tenant", nil)}, "/tenant", ""},
		{"trailing slash mismatch", map[string]func(string) (int, string, string){"/.well-known/openid-configuration": ok("/", nil)}, "", "must match exactly"},
		{"html", map[string]func(string) (int, string, string){"/.well-known/openid-configuration": func(string) (int, string, string) { return 200, "text/html", "<html>" }}, "", "HTML page"},
		{"not json", map[string]func(string) (int, string, string){"/.well-known/openid-configuration": func(string) (int, string, string) { return 200, "application/json", "{trunc" }}, "", "not valid JSON"},
		{"server error", map[string]func(string) (int, string, string){"/.well-known/openid-configuration": func(string) (int, string, string) { return 503, "text/plain", "" }}, "", "HTTP 503"},
		{"none at all", nil, "", "HTTP 404"},
		{"no token endpoint", map[string]func(string) (int, string, string){"/.well-known/openid-configuration": func(b string) (int, string, string) {
			return 200, "application/json", `{"issuer":"` + b + `","authorization_endpoint":"x"}`
		}}, "", "lacks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := serve(t, tt.routes)
			md, err := Discover(context.Background(), http.DefaultClient, base+tt.path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if md.Issuer != base+tt.path || md.TokenEndpoint != base+tt.path+"/token" {
				t.Errorf("metadata %+v", md)
			}
		})
	}
}

func TestIssuerMismatchIsTyped(t *testing.T) {
	base := serve(t, map[string]func(string) (int, string, string){
		"/.well-known/openid-configuration": func(string) (int, string, string) { return 200, "application/json", doc("https://other", nil) },
	})
	_, err := Discover(context.Background(), http.DefaultClient, base)
	var im *IssuerMismatchError
	if !errors.As(err, &im) || im.Got != "https://other" || im.Want != base {
		t.Fatalf("%v", err)
	}
}

func TestResolve(t *testing.T) {
	base := serve(t, map[string]func(string) (int, string, string){
		"/.well-known/openid-configuration": func(b string) (int, string, string) {
			return 200, "application/json", doc(b, map[string]any{"authorization_response_iss_parameter_supported": true, "code_challenge_methods_supported": []string{"plain"}})
		},
	})
	ep, err := Resolve(context.Background(), http.DefaultClient, Endpoints{Issuer: base, Token: "https://broker/token"})
	if err != nil {
		t.Fatal(err)
	}
	if ep.Token != "https://broker/token" || ep.Auth != base+"/auth" || !ep.IssParameter || !ep.IsOIDC() || ep.SupportsS256() {
		t.Errorf("%+v", ep)
	}
	if _, err := Resolve(context.Background(), http.DefaultClient, Endpoints{Auth: "https://gh/auth"}); err == nil {
		t.Error("plain OAuth without token URL accepted")
	}
	ep, err = Resolve(context.Background(), http.DefaultClient, Endpoints{Auth: "https://gh/auth", Token: "https://gh/token"})
	if err != nil || ep.IsOIDC() || !ep.SupportsS256() {
		t.Errorf("plain OAuth: %+v %v", ep, err)
	}
}
