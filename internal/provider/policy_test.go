package provider

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sesame-cli/sesame/internal/httpx"
)

// TestResolveChecksEveryEndpoint: a discovery document is as untrusted as
// any input, so each endpoint in it passes the same policy as a configured
// one; the error names the field, where it came from and why.
func TestResolveChecksEveryEndpoint(t *testing.T) {
	fields := map[string]string{
		"authorization_endpoint":        "auth_url",
		"token_endpoint":                "token_url",
		"userinfo_endpoint":             "userinfo_url",
		"jwks_uri":                      "jwks_url",
		"revocation_endpoint":           "revocation_url",
		"introspection_endpoint":        "introspection_url",
		"end_session_endpoint":          "end_session_url",
		"device_authorization_endpoint": "device_url",
	}
	bad := map[string]string{
		"http://idp.example/x":   "must use https",
		"file:///etc/passwd":     "not an absolute http(s) URL",
		"javascript:alert(1)":    "not an absolute http(s) URL",
		"https://idp.example/#x": "fragment",
	}
	for field, key := range fields {
		for value, why := range bad {
			base := serve(t, map[string]func(string) (int, string, string){
				"/.well-known/openid-configuration": func(b string) (int, string, string) {
					return 200, "application/json", doc(b, map[string]any{field: value})
				},
			})
			_, err := Resolve(context.Background(), http.DefaultClient, Endpoints{Issuer: base})
			if err == nil {
				t.Errorf("%s %q accepted", field, value)
				continue
			}
			for _, want := range []string{"discovery document at " + base + "/.well-known/openid-configuration", field, value, why, key} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%s %q: %q lacks %q", field, value, err, want)
				}
			}
		}
	}
	// A configured endpoint overrides a bad discovered one, and is itself
	// checked, naming the profile setting.
	base := serve(t, map[string]func(string) (int, string, string){
		"/.well-known/openid-configuration": func(b string) (int, string, string) {
			return 200, "application/json", doc(b, map[string]any{"token_endpoint": "http://idp.example/token"})
		},
	})
	if _, err := Resolve(context.Background(), http.DefaultClient, Endpoints{Issuer: base, Token: "https://broker.example/token"}); err != nil {
		t.Errorf("override of a bad discovered endpoint: %v", err)
	}
	_, err := Resolve(context.Background(), http.DefaultClient, Endpoints{Auth: "https://gh/auth", Token: "https://gh/token", Userinfo: "http://api.example/user"})
	if err == nil || !strings.Contains(err.Error(), "the profile's userinfo_url") || !strings.Contains(err.Error(), "must use https") {
		t.Errorf("configured endpoint: %v", err)
	}
}

// TestDiscoveryRedirects: a document may move within its origin, never to
// another one, which would choose the endpoints.
func TestDiscoveryRedirects(t *testing.T) {
	var caught atomic.Int32
	catcher := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { caught.Add(1) }))
	t.Cleanup(catcher.Close)
	var base string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away/.well-known/openid-configuration":
			http.Redirect(w, r, catcher.URL+r.URL.Path, http.StatusFound)
		case "/moved/.well-known/openid-configuration":
			http.Redirect(w, r, "/real", http.StatusMovedPermanently)
		case "/real":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, doc(base+"/moved", nil))
		}
	}))
	t.Cleanup(srv.Close)
	base = srv.URL

	if _, err := Discover(context.Background(), http.DefaultClient, base+"/moved"); err != nil {
		t.Errorf("same-origin move: %v", err)
	}
	_, err := Discover(context.Background(), http.DefaultClient, base+"/away")
	var rd *httpx.RedirectError
	if !errors.As(err, &rd) || rd.To != catcher.URL || !strings.Contains(err.Error(), "only within the same origin") {
		t.Errorf("cross-origin: %v", err)
	}
	if caught.Load() != 0 {
		t.Errorf("the other origin got %d request(s)", caught.Load())
	}
}

func TestUserinfoRefusesRedirects(t *testing.T) {
	var auth atomic.Value
	catcher := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { auth.Store(r.Header.Get("Authorization")) }))
	t.Cleanup(catcher.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, catcher.URL+"/userinfo", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	_, err := Userinfo(context.Background(), http.DefaultClient, srv.URL+"/userinfo", "the-access-token")
	if err == nil || !strings.Contains(err.Error(), "the userinfo endpoint answered HTTP 307, a redirect to "+catcher.URL) {
		t.Errorf("err %v", err)
	}
	if auth.Load() != nil {
		t.Error("the other origin got the request")
	}
	if _, err := Userinfo(context.Background(), http.DefaultClient, "http://api.example/userinfo", "the-access-token"); err == nil || !strings.Contains(err.Error(), "must use https") {
		t.Errorf("http userinfo endpoint: %v", err)
	}
}

func TestDocumentBound(t *testing.T) {
	base := serve(t, map[string]func(string) (int, string, string){
		"/.well-known/openid-configuration": func(b string) (int, string, string) {
			return 200, "application/json", `{"issuer":"` + b + `","x":"` + strings.Repeat("a", httpx.MaxBody) + `"}`
		},
	})
	_, err := Discover(context.Background(), http.DefaultClient, base)
	var tl *httpx.TooLargeError
	if !errors.As(err, &tl) {
		t.Errorf("err %v", err)
	}
}
