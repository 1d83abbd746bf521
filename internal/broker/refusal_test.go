package broker

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func with(v url.Values, kv ...string) string {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			out.Del(kv[i])
		} else {
			out.Add(kv[i], kv[i+1])
		}
	}
	return out.Encode()
}

func set(v url.Values, k, val string) string {
	out := url.Values{}
	for kk, vs := range v {
		out[kk] = vs
	}
	out.Set(k, val)
	return out.Encode()
}

// TestRefusals covers every request the broker refuses itself: each gets
// RFC 6749 error JSON, is never cached, and never reaches the provider.
func TestRefusals(t *testing.T) {
	ac, rf := authCodeForm(), refreshForm()
	tests := []struct {
		name, method, path, body string
		header                   []string
		status                   int
		code                     string
		wantHeader               map[string]string
	}{
		{name: "missing client_id", body: with(rf, "client_id", ""), status: 401, code: "invalid_client",
			wantHeader: map[string]string{"Www-Authenticate": `Basic realm="sesame-broker"`}},
		{name: "unknown client_id", body: set(rf, "client_id", "someone-else"), status: 401, code: "invalid_client",
			wantHeader: map[string]string{"Www-Authenticate": `Basic realm="sesame-broker"`}},
		{name: "caller Authorization header", body: rf.Encode(), header: []string{"Authorization", "Basic " + testCallerSecret},
			status: 400, code: "invalid_request"},
		{name: "caller client_secret", body: with(rf, "client_secret", testCallerSecret), status: 400, code: "invalid_request"},
		{name: "caller client_assertion", body: with(rf, "client_assertion", "eyJ"), status: 400, code: "invalid_request"},
		{name: "missing code_verifier", body: with(ac, "code_verifier", ""), status: 400, code: "invalid_request"},
		{name: "short code_verifier", body: set(ac, "code_verifier", strings.Repeat("a", 42)), status: 400, code: "invalid_request"},
		{name: "long code_verifier", body: set(ac, "code_verifier", strings.Repeat("a", 129)), status: 400, code: "invalid_request"},
		{name: "code_verifier with a bad character", body: set(ac, "code_verifier", strings.Repeat("a", 50)+"+"), status: 400, code: "invalid_request"},
		{name: "missing code", body: with(ac, "code", ""), status: 400, code: "invalid_request"},
		{name: "missing redirect_uri", body: with(ac, "redirect_uri", ""), status: 400, code: "invalid_request"},
		{name: "localhost redirect_uri", body: set(ac, "redirect_uri", "http://localhost:8080/callback"), status: 400, code: "invalid_request"},
		{name: "remote redirect_uri", body: set(ac, "redirect_uri", "https://evil.example/callback"), status: 400, code: "invalid_request"},
		{name: "redirect_uri with a dot segment", body: set(ac, "redirect_uri", "http://127.0.0.1:80/a/../b"), status: 400, code: "invalid_request"},
		{name: "missing grant_type", body: with(rf, "grant_type", ""), status: 400, code: "invalid_request"},
		{name: "unknown grant_type", body: set(rf, "grant_type", "password"), status: 400, code: "unsupported_grant_type"},
		{name: "grant_type not allowed for the client", path: "/token",
			body: set(ac, "client_id", "refresh-only"), status: 400, code: "unsupported_grant_type"},
		{name: "missing refresh_token", body: with(rf, "refresh_token", ""), status: 400, code: "invalid_request"},
		{name: "duplicate parameter", body: rf.Encode() + "&refresh_token=again", status: 400, code: "invalid_request"},
		{name: "duplicate client_id", body: rf.Encode() + "&client_id=" + url.QueryEscape(testClientID), status: 400, code: "invalid_request"},
		{name: "malformed form", body: "grant_type=refresh_token&x=%zz", status: 400, code: "invalid_request"},
		{name: "GET", method: http.MethodGet, status: 405, code: "invalid_request", wantHeader: map[string]string{"Allow": "POST"}},
		{name: "PUT", method: http.MethodPut, body: rf.Encode(), status: 405, code: "invalid_request", wantHeader: map[string]string{"Allow": "POST"}},
		{name: "body over 64 KiB", body: rf.Encode() + "&pad=" + strings.Repeat("x", MaxBody), status: 413, code: "invalid_request"},
		{name: "JSON body", body: `{"grant_type":"refresh_token"}`, header: []string{"Content-Type", "application/json"}, status: 415, code: "invalid_request"},
		{name: "no content type", body: rf.Encode(), header: []string{"Content-Type", ""}, status: 415, code: "invalid_request"},
		{name: "multipart body", body: rf.Encode(), header: []string{"Content-Type", "multipart/form-data; boundary=x"}, status: 415, code: "invalid_request"},
		{name: "revoke without token", path: "/revoke", body: "client_id=" + url.QueryEscape(testClientID), status: 400, code: "invalid_request"},
		{name: "introspect without client", path: "/introspect", body: "token=" + testAccess, status: 401, code: "invalid_client"},
		{name: "revoke with caller secret", path: "/revoke", body: with(url.Values{"client_id": {testClientID}, "token": {testAccess}}, "client_secret", "x"),
			status: 400, code: "invalid_request"},
		{name: "revoke, provider has no revocation endpoint", path: "/revoke",
			body: url.Values{"client_id": {"no-revocation"}, "token": {testAccess}}.Encode(), status: 400, code: "invalid_request"},
		{name: "unknown path", path: "/authorize", status: 404, code: "invalid_request"},
		{name: "root", path: "/", method: http.MethodGet, status: 404, code: "invalid_request"},
		// ServeMux would redirect these to /token; the broker never did.
		{name: "path with an empty segment", path: "//token", body: rf.Encode(), status: 404, code: "invalid_request"},
		{name: "path with a dot segment", path: "/x/../token", body: rf.Encode(), status: 404, code: "invalid_request"},
		{name: "path with a trailing slash", path: "/token/", body: rf.Encode(), status: 404, code: "invalid_request"},
		{name: "GET /metrics/", path: "/metrics/", method: http.MethodGet, status: 404, code: "invalid_request"},
	}
	tb := newTestBroker(t, func(cfg *Config, idp *fakeIdP) {
		cfg.Clients = append(cfg.Clients,
			Client{ID: "refresh-only", Issuer: idp.issuer(), Secret: "x", GrantTypes: []string{GrantRefreshToken}},
			Client{ID: "no-revocation", TokenURL: idp.issuer() + "/token", Secret: "x"})
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, path := tt.method, tt.path
			if method == "" {
				method = http.MethodPost
			}
			if path == "" {
				path = "/token"
			}
			req, err := http.NewRequest(method, tb.srv.URL+path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for i := 0; i+1 < len(tt.header); i += 2 {
				req.Header.Set(tt.header[i], tt.header[i+1])
			}
			resp, err := testHTTP.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			checkOAuthError(t, resp, tt.status, tt.code)
			for k, v := range tt.wantHeader {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
	if got := tb.idp.requests(); len(got) != 0 {
		t.Errorf("the provider received %d refused requests: %+v", len(got), got)
	}
}

// checkOAuthError asserts an RFC 6749 §5.2 error response.
func checkOAuthError(t *testing.T, resp *http.Response, status int, code string) {
	t.Helper()
	body := readBody(t, resp)
	if resp.StatusCode != status {
		t.Errorf("status = %d, want %d (body %s)", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("body %q is not JSON: %v", body, err)
	}
	if e.Error != code || e.Description == "" {
		t.Errorf("error = %q (%q), want %q with a description", e.Error, e.Description, code)
	}
}
