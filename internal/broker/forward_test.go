package broker

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// lastRequest returns the one request the provider received.
func lastRequest(t *testing.T, idp *fakeIdP) seen {
	t.Helper()
	got := idp.requests()
	if len(got) != 1 {
		t.Fatalf("the provider received %d requests, want 1", len(got))
	}
	return got[0]
}

func TestForwardAuthorizationCode(t *testing.T) {
	for _, method := range []string{AuthClientSecretBasic, AuthClientSecretPost} {
		t.Run(method, func(t *testing.T) {
			tb := newTestBroker(t, func(cfg *Config, _ *fakeIdP) { cfg.Clients[0].AuthMethod = method })
			body := with(authCodeForm(),
				"resource", "https://api.example.com/", "resource", "https://other.example.com/",
				"scope", "admin", "organization_id", "org1", "state", "x", "nonce", "y", "extra", "z")
			resp := tb.post(t, "/token", body)
			if got := readBody(t, resp); resp.StatusCode != 200 || got != tokenJSON() {
				t.Fatalf("got %d %s, want the provider's 200 body as is", resp.StatusCode, got)
			}
			req := lastRequest(t, tb.idp)
			want := url.Values{
				"grant_type": {GrantAuthorizationCode}, "code": {testCode}, "code_verifier": {testVerifier},
				"redirect_uri": {testRedirect}, "resource": {"https://api.example.com/", "https://other.example.com/"},
			}
			checkCredentials(t, req, method, want)
		})
	}
}

func TestForwardRefreshToken(t *testing.T) {
	for _, method := range []string{AuthClientSecretBasic, AuthClientSecretPost} {
		t.Run(method, func(t *testing.T) {
			tb := newTestBroker(t, func(cfg *Config, _ *fakeIdP) { cfg.Clients[0].AuthMethod = method })
			body := with(refreshForm(), "scope", "openid offline_access", "resource", "https://a.example/",
				"resource", "https://b.example/", "organization_id", "org_42", "code", "stray", "redirect_uri", testRedirect,
				"code_verifier", testVerifier, "prompt", "consent")
			resp := tb.post(t, "/token", body)
			if got := readBody(t, resp); resp.StatusCode != 200 || got != tokenJSON() {
				t.Fatalf("got %d %s", resp.StatusCode, got)
			}
			want := url.Values{
				"grant_type": {GrantRefreshToken}, "refresh_token": {testRefresh}, "scope": {"openid offline_access"},
				"resource": {"https://a.example/", "https://b.example/"}, "organization_id": {"org_42"},
			}
			checkCredentials(t, lastRequest(t, tb.idp), method, want)
		})
	}
}

// checkCredentials asserts the provider saw exactly want plus the client's
// credentials in the form auth method asks for.
func checkCredentials(t *testing.T, req seen, method string, want url.Values) {
	t.Helper()
	authz := req.header.Get("Authorization")
	switch method {
	case AuthClientSecretBasic:
		// RFC 6749 §2.3.1: form-urlencode, then Basic.
		enc := url.QueryEscape(testClientID) + ":" + url.QueryEscape(testSecret)
		if authz != "Basic "+base64.StdEncoding.EncodeToString([]byte(enc)) {
			t.Errorf("Authorization = %q", authz)
		}
	case AuthClientSecretPost:
		if authz != "" {
			t.Errorf("Authorization = %q, want none with client_secret_post", authz)
		}
		want.Set("client_id", testClientID)
		want.Set("client_secret", testSecret)
	}
	if !reflect.DeepEqual(req.form, want) {
		t.Errorf("provider received\n %v\nwant\n %v", req.form, want)
	}
	if ct := req.header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q", ct)
	}
	if xff := req.header.Get("X-Forwarded-For"); xff != "" {
		t.Errorf("caller headers leaked upstream: X-Forwarded-For %q", xff)
	}
}

// TestPassThrough checks that the provider's status, headers and JSON body
// reach the caller unchanged, errors included.
func TestPassThrough(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
	}{
		{"invalid_grant", 400, http.Header{"Content-Type": {"application/json; charset=utf-8"}, "Cache-Control": {"no-store"}, "Pragma": {"no-cache"}},
			`{"error":"invalid_grant","error_description":"grant request is invalid"}`},
		{"invalid_client", 401, http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}, "Www-Authenticate": {`Basic realm="idp"`}},
			`{"error":"invalid_client"}`},
		{"server error JSON", 503, http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-cache, max-age=0"}},
			`{"error":"temporarily_unavailable"}`},
		{"problem+json", 400, http.Header{"Content-Type": {"application/problem+json"}, "Cache-Control": {"no-store"}},
			`{"error":"invalid_request","title":"x"}`},
		{"empty 200", 200, http.Header{"Cache-Control": {"no-store"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTestBroker(t, nil)
			tb.idp.reply(tt.status, tt.header, tt.body)
			resp := tb.post(t, "/token", refreshForm().Encode())
			if got := readBody(t, resp); resp.StatusCode != tt.status || got != tt.body {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, got, tt.status, tt.body)
			}
			for _, k := range []string{"Content-Type", "Cache-Control", "Pragma", "Www-Authenticate"} {
				if got, want := resp.Header.Values(k), tt.header.Values(k); !slices.Equal(got, want) {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestMissingCacheControlBecomesNoStore(t *testing.T) {
	tb := newTestBroker(t, nil)
	tb.idp.reply(200, http.Header{"Content-Type": {"text/plain"}}, tokenJSON())
	resp := tb.post(t, "/token", refreshForm().Encode())
	readBody(t, resp)
	if cc, ct := resp.Header.Get("Cache-Control"), resp.Header.Get("Content-Type"); cc != "no-store" || ct != "application/json" {
		t.Errorf("Cache-Control %q, Content-Type %q; want no-store and application/json", cc, ct)
	}
}

// TestUnusableUpstream covers a provider that answers with something other
// than JSON, or not at all: the caller always gets a JSON 502 or 504.
func TestUnusableUpstream(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
	}{
		{"HTML 500", 500, http.Header{"Content-Type": {"text/html"}}, "<html><body>Internal Server Error</body></html>"},
		{"HTML 200", 200, http.Header{"Content-Type": {"text/html"}}, "<html>login</html>"},
		{"truncated JSON", 200, http.Header{"Content-Type": {"application/json"}}, `{"access_token":"abc`},
		{"form-encoded", 200, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, "access_token=abc&token_type=bearer"},
		{"redirect", 302, http.Header{"Location": {"https://elsewhere.example/token"}}, ""},
		{"too large", 200, http.Header{"Content-Type": {"application/json"}}, `"` + strings.Repeat("x", maxUpstreamBody) + `"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTestBroker(t, nil)
			tb.idp.reply(tt.status, tt.header, tt.body)
			resp := tb.post(t, "/token", refreshForm().Encode())
			checkOAuthError(t, resp, http.StatusBadGateway, "server_error")
		})
	}
}

func TestUpstreamDown(t *testing.T) {
	tb := newTestBroker(t, nil)
	tb.idp.srv.Close()
	resp := tb.post(t, "/token", refreshForm().Encode())
	checkOAuthError(t, resp, http.StatusBadGateway, "server_error")
}

func TestUpstreamSlow(t *testing.T) {
	tb := newTestBroker(t, func(cfg *Config, _ *fakeIdP) { cfg.UpstreamTimeout = 200 * time.Millisecond })
	tb.idp.set(func(f *fakeIdP) { f.delay = 5 * time.Second })
	start := time.Now()
	resp := tb.post(t, "/token", refreshForm().Encode())
	checkOAuthError(t, resp, http.StatusGatewayTimeout, "temporarily_unavailable")
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v with a 200ms upstream timeout", d)
	}
}

func TestRevokeAndIntrospect(t *testing.T) {
	for _, method := range []string{AuthClientSecretBasic, AuthClientSecretPost} {
		for _, path := range []string{"/revoke", "/introspect"} {
			t.Run(method+path, func(t *testing.T) {
				tb := newTestBroker(t, func(cfg *Config, _ *fakeIdP) { cfg.Clients[0].AuthMethod = method })
				reply := `{"active":true,"scope":"openid"}`
				if path == "/revoke" {
					reply = "" // RFC 7009 §2.2: 200 with no body
				}
				tb.idp.reply(200, http.Header{"Content-Type": {"application/json"}}, reply)
				body := url.Values{"client_id": {testClientID}, "token": {testRefresh}, "token_type_hint": {"refresh_token"}, "scope": {"x"}}
				resp := tb.post(t, path, body.Encode())
				if got := readBody(t, resp); resp.StatusCode != 200 || got != reply {
					t.Fatalf("got %d %q", resp.StatusCode, got)
				}
				req := lastRequest(t, tb.idp)
				if req.path != path {
					t.Errorf("forwarded to %s", req.path)
				}
				checkCredentials(t, req, method, url.Values{"token": {testRefresh}, "token_type_hint": {"refresh_token"}})
			})
		}
	}
}

// TestChunkedBodyTooLarge sends a body without Content-Length, so only
// the bounded reader can stop it.
func TestChunkedBodyTooLarge(t *testing.T) {
	tb := newTestBroker(t, nil)
	pr, pw := io.Pipe()
	go func() {
		_, _ = io.WriteString(pw, refreshForm().Encode()+"&pad=")
		_, _ = io.WriteString(pw, strings.Repeat("x", 2*MaxBody))
		pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, tb.srv.URL+"/token", pr)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := testHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	checkOAuthError(t, resp, http.StatusRequestEntityTooLarge, "invalid_request")
}
