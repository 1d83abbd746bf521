package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// policyNothingSent is an after hook for a login that must fail before
// anything is sent: no browser, no authorization code redeemed.
func policyNothingSent(t *testing.T, h *harness, _, stderr string) {
	t.Helper()
	if strings.Contains(stderr, "Open this URL") {
		t.Errorf("the login went on to the browser:\n%s", stderr)
	}
	if n := h.idp.Grants("authorization_code"); n != 1 { // the harness's own login
		t.Errorf("%d code exchanges, want only the harness's one", n)
	}
}

// policyEndless serves a JWK Set that never ends: 1 GiB of JSON-looking
// keys, stopping early only when the client hangs up. sent counts what
// went out.
func policyEndless(t *testing.T, sent *atomic.Int64) string {
	chunk := []byte(strings.Repeat(`{"kty":"RSA","kid":"k","n":"AQAB","e":"AQAB"},`, 1<<10))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"keys":[`)
		for sent.Load() < 1<<30 {
			n, err := w.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/jwks"
}

// endpointPolicyCases: the one URL policy, applied to discovered endpoints as to configured ones.
func endpointPolicyCases() []hostileCase {
	approve := func(*hostileBrowser, string, url.Values) bool { return true }
	discovered := func(field, value string) func(*harness) {
		return func(h *harness) {
			h.idp.EditDiscovery(func(md map[string]any) { md[field] = value })
		}
	}
	login := []string{"login", "--timeout", "2s"}
	crlf := func(field string) string {
		body := map[string]any{"access_token": "at-ok", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt-ok"}
		body[field] = "ab\r\nX-Injected: yes"
		b, _ := json.Marshal(body)
		return string(b)
	}
	noInjection := func(t *testing.T, _ *harness, stdout, stderr string) {
		if strings.Contains(stdout+stderr, "X-Injected") {
			t.Errorf("the message repeats the token:\n%s", stderr)
		}
	}
	broker := newRedirTrap(http.StatusPermanentRedirect)
	var sent atomic.Int64
	var before runtime.MemStats

	return []hostileCase{
		{surface: "endpoint_policy", name: "discovery: http token endpoint on a public host", setup: discovered("token_endpoint", "http://idp.example/token"),
			args: login, wantCode: 1, want: `has an unusable token_endpoint: "http://idp.example/token" must use https`, after: policyNothingSent},

		{surface: "endpoint_policy", name: "discovery: file: authorization endpoint", setup: discovered("authorization_endpoint", "file:///etc/passwd"),
			args: login, wantCode: 1, want: `has an unusable authorization_endpoint: "file:///etc/passwd" is not an absolute http(s) URL`, after: policyNothingSent},

		{surface: "endpoint_policy", name: "discovery: javascript: end-session endpoint", setup: discovered("end_session_endpoint", "javascript:alert(document.cookie)"),
			args: login, wantCode: 1, want: "end_session_endpoint", after: policyNothingSent},

		{surface: "endpoint_policy", name: "stored javascript: end-session endpoint is not opened", setup: func(h *harness) {
			redirEditStored(h, func(_, ep map[string]any) { ep["end_session_endpoint"] = "javascript:alert(document.cookie)" })
		}, args: []string{"logout", "--end-session"}, wantCode: 1, want: "nothing was changed", after: func(t *testing.T, _ *harness, _, stderr string) {
			if strings.Contains(stderr, "Open this URL") || strings.Contains(stderr, "Logged out") {
				t.Errorf("logout went ahead:\n%s", stderr)
			}
		}},

		{surface: "endpoint_policy", name: "device: javascript: verification_uri", setup: func(h *harness) {
			h.env["SESAME_DEVICE_URL"] = redirDevice(h.t, "javascript:alert(1)")
		}, args: []string{"login", "--device", "--timeout", "5s"}, wantCode: 1, want: "verification_uri is unusable", after: func(t *testing.T, _ *harness, _, stderr string) {
			if strings.Contains(stderr, "open this URL") {
				t.Errorf("the URL was shown to the user:\n%s", stderr)
			}
		}},

		{surface: "endpoint_policy", name: "exchange: access_token with CR/LF", act: func(b *hostileBrowser, _ string, _ url.Values) bool {
			b.idp.FailNext(1, 200, "application/json", crlf("access_token"))
			return true
		}, wantCode: 1, want: "the access_token contains a line break at byte 2", after: noInjection},

		{surface: "endpoint_policy", name: "refresh: refresh_token with CR/LF is not invalid_grant", setup: func(h *harness) {
			h.idp.FailNext(1, 200, "application/json", crlf("refresh_token"))
		}, args: []string{"token"}, wantCode: 1, want: "the refresh_token contains a line break at byte 2", after: noInjection},

		{surface: "endpoint_policy", name: "refresh: token_type with a space", setup: func(h *harness) {
			h.idp.FailNext(1, 200, "application/json", `{"access_token":"at","token_type":"Bearer x","expires_in":60}`)
		}, args: []string{"token"}, wantCode: 1, want: "the token_type contains a space at byte 6"},

		{surface: "endpoint_policy", name: "refresh through a redirecting broker: exit 1, tokens kept", setup: func(h *harness) {
			broker.start(h.t)
			h.env["SESAME_BROKER"] = broker.url("")
		}, args: []string{"token"}, wantCode: 1, want: "the token endpoint answered HTTP 308", after: broker.nothingCaught},

		{surface: "endpoint_policy", name: "1 GiB JWKS costs no more than a small one", setup: func(h *harness) {
			h.env["SESAME_JWKS_URL"] = policyEndless(h.t, &sent)
			runtime.GC()
			runtime.ReadMemStats(&before)
		}, act: approve, wantCode: 1, want: "larger than 1024 KiB", after: func(t *testing.T, _ *harness, _, _ string) {
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			// What the whole login allocated, the servers in this process
			// included; reading the set unbounded would be over 1 GiB.
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
				t.Errorf("the login allocated %d MiB", grew>>20)
			}
			time.Sleep(50 * time.Millisecond) // let the server notice the hang-up
			if n := sent.Load(); n > 64<<20 {
				t.Errorf("the JWKS server sent %d MiB before sesame hung up", n>>20)
			}
		}},
	}
}
