package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// redirTrap is a redirector and a catcher on two origins of their own: the
// redirector answers every request with status and a Location on the
// catcher, which records whatever reaches it. A case passes only when the
// catcher got nothing: no code, no token, not even the request.
type redirTrap struct {
	status     int
	redirector *httptest.Server
	catcher    *httptest.Server
	mu         sync.Mutex
	caught     []string
}

func newRedirTrap(status int) *redirTrap { return &redirTrap{status: status} }

// start runs the two servers until the test ends.
func (tr *redirTrap) start(t *testing.T) {
	tr.catcher = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		tr.mu.Lock()
		tr.caught = append(tr.caught, r.Method+" "+r.URL.String()+" "+r.Form.Encode()+" "+r.Header.Get("Authorization"))
		tr.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"caught","token_type":"Bearer","active":true,"keys":[]}`))
	}))
	t.Cleanup(tr.catcher.Close)
	tr.redirector = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Where a real attacker would send it: same path, and a query
		// that makes a followed redirect look like a callback.
		http.Redirect(w, r, tr.catcher.URL+r.URL.Path+"?code=stolen", tr.status)
	}))
	t.Cleanup(tr.redirector.Close)
}

// url is path on the redirector.
func (tr *redirTrap) url(path string) string { return tr.redirector.URL + path }

// nothingCaught is an after hook: the catcher must have received nothing,
// and the message must name the catcher's origin, never the full target.
func (tr *redirTrap) nothingCaught(t *testing.T, _ *harness, _, stderr string) {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(tr.caught) > 0 {
		t.Errorf("the other origin received %d request(s): %q", len(tr.caught), tr.caught)
	}
	if strings.Contains(stderr, "code=stolen") {
		t.Errorf("the message shows the whole redirect target:\n%s", stderr)
	}
}

// redirEditStored changes the stored login as JSON, before the command
// runs: a token endpoint that redirects, a scope, and so on.
func redirEditStored(h *harness, edit func(entry, endpoints map[string]any)) {
	h.t.Helper()
	s := h.keychain()
	b, err := s.Get("default")
	if err != nil {
		h.t.Fatal(err)
	}
	var entry map[string]any
	if err := json.Unmarshal(b, &entry); err != nil {
		h.t.Fatal(err)
	}
	ep, _ := entry["endpoints"].(map[string]any)
	if ep == nil {
		h.t.Fatalf("the stored entry has no endpoints: %s", b)
	}
	edit(entry, ep)
	if b, err = json.Marshal(entry); err != nil {
		h.t.Fatal(err)
	}
	if err := s.Set("default", b); err != nil {
		h.t.Fatal(err)
	}
}

// redirStoredEndpoint points one stored endpoint at the trap. valid moves
// the clock back so that the access token is valid and the command does
// not refresh first.
func redirStoredEndpoint(tr *redirTrap, field string, valid bool) func(*harness) {
	return func(h *harness) {
		tr.start(h.t)
		redirEditStored(h, func(_, ep map[string]any) { ep[field] = tr.url("/" + field) })
		if valid {
			h.clock.Add(-2 * time.Minute)
		}
	}
}

// redirDevice is a device authorization endpoint (RFC 8628 §3.2) on an
// origin of its own that hands out a code and tells the client to poll
// every second; verificationURI is what the user is told to open.
func redirDevice(t *testing.T, verificationURI string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"device_code": "the-device-code", "user_code": "WDJB-MJHT",
			"verification_uri": verificationURI, "expires_in": 60, "interval": 1,
		})
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/device"
}

// redirectCases: HTTP redirects at every provider endpoint: nothing follows them to another origin.
func redirectCases() []hostileCase {
	approve := func(*hostileBrowser, string, url.Values) bool { return true }
	sameOrigin := "sesame follows a redirect only within the same origin"

	exchange := newRedirTrap(http.StatusTemporaryRedirect)
	refresh := newRedirTrap(http.StatusTemporaryRedirect)
	resource := newRedirTrap(http.StatusTemporaryRedirect)
	org := newRedirTrap(http.StatusFound)
	revocation := newRedirTrap(http.StatusTemporaryRedirect)
	introspection := newRedirTrap(http.StatusTemporaryRedirect)
	userinfo := newRedirTrap(http.StatusFound)
	deviceAuth := newRedirTrap(http.StatusTemporaryRedirect)
	devicePoll := newRedirTrap(http.StatusTemporaryRedirect)
	discovery := newRedirTrap(http.StatusFound)
	jwks := newRedirTrap(http.StatusTemporaryRedirect)
	var moved atomic.Int32

	return []hostileCase{
		{surface: "redirect", name: "code exchange", setup: func(h *harness) {
			exchange.start(h.t)
			h.env["SESAME_TOKEN_URL"] = exchange.url("/token")
		}, act: approve, wantCode: 1, want: "the token endpoint answered HTTP 307, a redirect to http://127.0.0.1", after: exchange.nothingCaught},

		{surface: "redirect", name: "refresh", setup: redirStoredEndpoint(refresh, "token_endpoint", false),
			args: []string{"token"}, wantCode: 1, want: "refresh the tokens: the token endpoint answered HTTP 307", after: refresh.nothingCaught},

		{surface: "redirect", name: "resource token", setup: redirStoredEndpoint(resource, "token_endpoint", false),
			args: []string{"token", "--resource", "https://api.example.com"}, wantCode: 1, want: "the token endpoint answered HTTP 307", after: resource.nothingCaught},

		{surface: "redirect", name: "organization token", setup: func(h *harness) {
			redirStoredEndpoint(org, "token_endpoint", true)(h)
			redirEditStored(h, func(entry, _ map[string]any) {
				entry["scope"] = entry["scope"].(string) + " urn:logto:scope:organizations"
			})
		}, args: []string{"org-token", "acme"}, wantCode: 1, want: "the token endpoint answered HTTP 302", after: org.nothingCaught},

		{surface: "redirect", name: "revocation", setup: redirStoredEndpoint(revocation, "revocation_endpoint", false),
			args: []string{"revoke"}, wantCode: 1, want: "the revocation endpoint answered HTTP 307", after: revocation.nothingCaught},

		{surface: "redirect", name: "introspection", setup: redirStoredEndpoint(introspection, "introspection_endpoint", true),
			args: []string{"introspect"}, wantCode: 1, want: "the introspection endpoint answered HTTP 307", after: introspection.nothingCaught},

		{surface: "redirect", name: "userinfo", setup: redirStoredEndpoint(userinfo, "userinfo_endpoint", true),
			args: []string{"userinfo"}, wantCode: 1, want: "the userinfo endpoint answered HTTP 302, a redirect to http://127.0.0.1", after: userinfo.nothingCaught},

		{surface: "redirect", name: "device authorization", setup: func(h *harness) {
			deviceAuth.start(h.t)
			h.env["SESAME_DEVICE_URL"] = deviceAuth.url("/device")
		}, args: []string{"login", "--device", "--timeout", "5s"}, wantCode: 1, want: "the device authorization endpoint answered HTTP 307, a redirect to http://127.0.0.1", after: deviceAuth.nothingCaught},

		{surface: "redirect", name: "device polling", setup: func(h *harness) {
			devicePoll.start(h.t)
			h.env["SESAME_DEVICE_URL"] = redirDevice(h.t, "https://idp.example/device")
			h.env["SESAME_TOKEN_URL"] = devicePoll.url("/token")
		}, args: []string{"login", "--device", "--timeout", "5s"}, wantCode: 1, want: "finish the device login: the token endpoint answered HTTP 307", after: devicePoll.nothingCaught},

		{surface: "redirect", name: "discovery to another origin", setup: func(h *harness) {
			discovery.start(h.t)
			h.env["SESAME_ISSUER"] = discovery.url("")
		}, args: []string{"login", "--timeout", "2s"}, wantCode: 1, want: sameOrigin, after: discovery.nothingCaught},

		{surface: "redirect", name: "JWKS to another origin", setup: func(h *harness) {
			jwks.start(h.t)
			h.env["SESAME_JWKS_URL"] = jwks.url("/jwks")
		}, act: approve, wantCode: 1, want: "a redirect to another origin", after: jwks.nothingCaught},

		{surface: "redirect", name: "discovery moved within its origin (followed)", setup: func(h *harness) {
			h.idp.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != "/.well-known/openid-configuration" || r.URL.Query().Has("moved") {
					return false
				}
				moved.Add(1)
				http.Redirect(w, r, r.URL.Path+"?moved=1", http.StatusMovedPermanently)
				return true
			})
		}, act: approve, wantCode: 0, mayStore: true, after: func(t *testing.T, h *harness, _, stderr string) {
			if moved.Load() == 0 || !strings.Contains(stderr, "Logged in") {
				t.Errorf("the login did not go through the moved document (%d redirects):\n%s", moved.Load(), stderr)
			}
		}},
	}
}
