package broker

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestLogsNeverContainSecrets pushes known secrets through every endpoint
// and every path a request can take, with the logger at debug level in
// both formats, and looks for them in the log.
func TestLogsNeverContainSecrets(t *testing.T) {
	callerAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(testClientID+":"+testCallerSecret))
	secrets := []string{callerAuth, testSecret, url.QueryEscape(testSecret), testCode, testVerifier, testRefresh,
		testAccess, testIDToken, testCallerSecret,
		base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(testClientID) + ":" + url.QueryEscape(testSecret)))}
	leaky := `{"error":"invalid_grant","error_description":"refresh token ` + testRefresh + ` expired; code ` + testCode + `"}`
	html := "<html>" + testAccess + " " + testRefresh + "</html>"

	type step struct {
		path, body string
		header     []string
		setup      func(*fakeIdP)
	}
	steps := []step{
		{path: "/token", body: authCodeForm().Encode()},
		{path: "/token", body: refreshForm().Encode()},
		{path: "/token", body: with(refreshForm(), "resource", "https://api.example/", "organization_id", "o", "scope", "openid")},
		{path: "/revoke", body: url.Values{"client_id": {testClientID}, "token": {testRefresh}}.Encode()},
		{path: "/introspect", body: url.Values{"client_id": {testClientID}, "token": {testAccess}}.Encode()},
		// The provider refuses, echoing what it got.
		{path: "/token", body: refreshForm().Encode(), setup: func(f *fakeIdP) { f.status, f.body = 400, leaky }},
		{path: "/token", body: refreshForm().Encode(), setup: func(f *fakeIdP) { f.status, f.body = 400, `{"error":"`+testRefresh+`"}` }},
		{path: "/token", body: authCodeForm().Encode(), setup: func(f *fakeIdP) {
			f.status, f.header, f.body = 500, http.Header{"Content-Type": {"text/html"}}, html
		}},
		{path: "/token", body: authCodeForm().Encode(), setup: func(f *fakeIdP) { f.delay = time.Second }},
		// Refusals, with secrets in every field a caller controls.
		{path: "/token", body: with(authCodeForm(), "client_secret", testCallerSecret)},
		{path: "/token", body: authCodeForm().Encode(), header: []string{"Authorization", callerAuth}},
		{path: "/token", body: set(refreshForm(), "client_id", testRefresh)},
		{path: "/token", body: set(refreshForm(), "grant_type", testRefresh)},
		{path: "/token", body: refreshForm().Encode() + "&" + testCode + "=1&" + testCode + "=2"},
		{path: "/token", body: set(authCodeForm(), "code_verifier", testVerifier+"!")},
		{path: "/token", body: set(authCodeForm(), "redirect_uri", "https://evil.example/"+testCode)},
		{path: "/token", body: authCodeForm().Encode(), header: []string{"Content-Type", "text/plain; " + testSecret}},
		{path: "/" + testRefresh, body: refreshForm().Encode()},
		{path: "/token?code=" + testCode, body: refreshForm().Encode()},
	}
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			tb := newTestBrokerFormat(t, func(cfg *Config, _ *fakeIdP) {
				cfg.UpstreamTimeout = 200 * time.Millisecond
				cfg.RateLimit, cfg.RateBurst = 0.001, len(steps)+1 // then rate limited
			}, format)
			for _, s := range steps {
				tb.idp.set(func(f *fakeIdP) {
					f.status, f.header, f.body, f.delay = 200, nil, tokenJSON(), 0
					if s.setup != nil {
						s.setup(f)
					}
				})
				readBody(t, tb.post(t, s.path, s.body, s.header...))
			}
			// The provider unreachable, and its discovery failing.
			tb.idp.srv.Close()
			tb.b.dir.refresh(context.Background())
			readBody(t, tb.post(t, "/token", refreshForm().Encode()))
			for _, s := range steps[:3] {
				readBody(t, tb.post(t, s.path, s.body, s.header...))
			}

			logs := tb.logs.String()
			for _, want := range []string{"provider_error", "upstream_status", "invalid_request: ", "rate_limited", "timeout", "bad_gateway", "discovery failed", "provider unreachable"} {
				if !strings.Contains(logs, want) {
					t.Errorf("the log lacks %q, so a path was not exercised:\n%s", want, logs)
				}
			}
			for _, s := range secrets {
				if strings.Contains(logs, s) {
					t.Errorf("the log contains %q:\n%s", s, logs)
				}
			}
		})
	}
}
