package login

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/grant"
	"github.com/sesame-cli/sesame/internal/provider"
	"github.com/sesame-cli/sesame/internal/session"
	"github.com/sesame-cli/sesame/internal/testidp"
)

// stubProvider answers the authorization endpoint (and, when set, the
// pushed authorization request endpoint) with canned responses, counting
// the requests.
type stubProvider struct {
	srv       *httptest.Server
	auth, par http.HandlerFunc
	authHits  atomic.Int32
	parHits   atomic.Int32
}

func newStub(t *testing.T, auth http.HandlerFunc) *stubProvider {
	t.Helper()
	s := &stubProvider{auth: auth}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/auth":
			s.authHits.Add(1)
			s.auth(w, r)
		case "/par":
			s.parHits.Add(1)
			s.par(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// options are a plain OAuth 2.0 login (no openid: no keys needed) at s.
func (s *stubProvider) options() Options {
	ep := provider.Endpoints{Auth: s.srv.URL + "/auth", Token: s.srv.URL + "/token"}
	if s.par != nil {
		ep.PAR = s.srv.URL + "/par"
	}
	return Options{Endpoints: ep, ClientID: "cli", Scopes: []string{"profile"}, Stderr: &bytes.Buffer{}, HTTP: &http.Client{Timeout: 5 * time.Second}}
}

func (s *stubProvider) check(t *testing.T, o Options) (*Verdict, error) {
	t.Helper()
	req := newRequest(o)
	req.redirectURI = "http://127.0.0.1:41234/callback"
	return o.preflight(context.Background(), req, false)
}

func page(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func redirectTo(status int, location func(r *http.Request) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", location(r))
		w.WriteHeader(status)
	}
}

const oidcProviderErrorPage = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Error</title></head>
<body><h1>Error</h1>
<p><b>error</b>: <span id="error">invalid_client</span></p>
<p><b>error_description</b>: <span id="error_description">client is invalid</span></p>
</body></html>`

const keycloakErrorPage = `<!DOCTYPE html><html><head><title>Sign in to demo</title>
<script>var x = "invalid_scope in a script must not count";</script><style>.a{}</style></head>
<body><div id="kc-header">DEMO</div><h1 id="kc-page-title">We are sorry...</h1>
<div class="pf-c-alert pf-m-danger alert-error"><span class="kc-feedback-text">Client not found.</span></div>
<p><a href="/">&laquo; Back to Application</a></p></body></html>`

// TestPreflightGET covers every way the one GET of the authorization URL
// can go, for a provider without pushed requests.
func TestPreflightGET(t *testing.T) {
	tests := []struct {
		name   string
		auth   http.HandlerFunc
		refuse []string // the error must say each; nil: the login goes on
		answer string   // the verdict's answer, for a login that goes on
		warn   string   // the verdict's warning
	}{
		{name: "error page naming invalid_client", auth: page(400, "text/html; charset=utf-8", oidcProviderErrorPage),
			refuse: []string{`its authorization endpoint answered HTTP 400: "invalid_client · client is invalid"`, `check client_id "cli" at the provider (is it registered, a native/public client, for this issuer?)`}},
		{name: "error page without a code", auth: page(400, "text/html", keycloakErrorPage),
			refuse: []string{`answered HTTP 400: "Client not found."`, `check client_id "cli" at the provider`}},
		{name: "JSON error about the redirect URI", auth: page(400, "application/json", `{"error":"invalid_request","error_description":"Invalid parameter: redirect_uri"}`),
			refuse: []string{"invalid_request (Invalid parameter: redirect_uri)", "register the redirect URI http://127.0.0.1/callback for client_id \"cli\"", "--port 8765"}},
		{name: "plain text error", auth: page(400, "text/plain", "authorization request refused: invalid_redirect_uri: no\n"),
			refuse: []string{`"authorization request refused: invalid_redirect_uri: no"`, "register the redirect URI"}},
		{name: "not found", auth: page(404, "text/html", "<h1>Not Found</h1>"),
			refuse: []string{`HTTP 404: "Not Found"`, "check the authorization endpoint"}},
		{name: "server error with an OAuth error", auth: page(500, "application/json", `{"error":"server_error"}`),
			refuse: []string{"server_error"}},
		{name: "redirect back with error=", auth: redirectTo(302, func(r *http.Request) string {
			return r.URL.Query().Get("redirect_uri") + "?error=invalid_scope&error_description=scope+profile+is+unknown&state=" + r.URL.Query().Get("state")
		}), refuse: []string{"invalid_scope (scope profile is unknown)", "check the scopes (--scope, scopes: in the profile)", ": profile"}},
		{name: "redirect to the provider's error page", auth: redirectTo(303, func(*http.Request) string {
			return "/error?error=unauthorized_client&error_description=PKCE+is+not+allowed"
		}), refuse: []string{"unauthorized_client (PKCE is not allowed)", "may use the authorization code flow"}},
		{name: "error in the fragment", auth: redirectTo(302, func(r *http.Request) string {
			return r.URL.Query().Get("redirect_uri") + "#error=access_denied"
		}), refuse: []string{"access_denied"}},
		{name: "redirect to the sign-in page", auth: redirectTo(303, func(*http.Request) string { return "/interaction/abc" }),
			answer: "HTTP 303 to the provider's sign-in pages"},
		{name: "redirect to another origin", auth: redirectTo(302, func(*http.Request) string { return "https://login.example.com/u/login?state=x" }),
			answer: "HTTP 302 to https://login.example.com"},
		{name: "redirect to the callback with a code", auth: redirectTo(302, func(r *http.Request) string {
			return r.URL.Query().Get("redirect_uri") + "?code=abc&state=x"
		}), answer: "HTTP 302"},
		{name: "sign-in page", auth: page(200, "text/html", "<form>password</form>"), answer: "HTTP 200, a sign-in page"},
		{name: "bot filter", auth: page(403, "text/html", "<title>Just a moment...</title>"), warn: "answered HTTP 403 to sesame's check"},
		{name: "outage page", auth: page(503, "text/html", "<h1>maintenance</h1>"), warn: "answered HTTP 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStub(t, tt.auth)
			v, err := s.check(t, s.options())
			if s.authHits.Load() != 1 {
				t.Errorf("%d GETs of the authorization URL, want 1", s.authHits.Load())
			}
			if tt.refuse != nil {
				var re *RefusedError
				if !errors.As(err, &re) {
					t.Fatalf("want a refusal, got %v, %+v", err, v)
				}
				for _, w := range tt.refuse {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error lacks %q:\n%s", w, err)
					}
				}
				if n := strings.Count(err.Error(), "\n"); n != 1 {
					t.Errorf("the message has %d lines, want 2:\n%s", n+1, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !strings.Contains(v.Answer, tt.answer) || !strings.Contains(v.Warning, tt.warn) || (tt.warn == "") != v.Checked() {
				t.Errorf("verdict %+v, want answer %q, warning %q", v, tt.answer, tt.warn)
			}
		})
	}
}

// The GET carries the whole authorization request, as the browser's URL
// would, and looks like a browser's.
func TestPreflightGETSendsTheRequest(t *testing.T) {
	var got *http.Request
	s := newStub(t, func(w http.ResponseWriter, r *http.Request) { got = r.Clone(context.Background()); w.WriteHeader(200) })
	o := s.options()
	o.Resources, o.Params = []string{"https://api.example"}, map[string]string{"login_hint": "alice"}
	if _, err := s.check(t, o); err != nil {
		t.Fatal(err)
	}
	q := got.URL.Query()
	for _, k := range []string{"client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge", "code_challenge_method", "resource", "login_hint"} {
		if q.Get(k) == "" {
			t.Errorf("the GET lacks %s: %s", k, got.URL)
		}
	}
	if !strings.HasPrefix(got.Header.Get("Accept"), "text/html") {
		t.Errorf("Accept = %q", got.Header.Get("Accept"))
	}
}

// What a provider's page says reaches the terminal cleaned and clipped.
func TestPreflightCleansTheProviderText(t *testing.T) {
	s := newStub(t, page(400, "application/json", `{"error":"invalid_request\u001b]52;c;aGk=\u0007","error_description":"bad\u001b[2J\r\nsesame: forged"}`))
	_, err := s.check(t, s.options())
	if err == nil || strings.ContainsAny(err.Error(), "\x1b\x07\r") || strings.Contains(err.Error(), "\nsesame: forged") {
		t.Fatalf("raw provider text in %q", err)
	}
	s = newStub(t, page(400, "text/html", "<p class=error>"+strings.Repeat("very long words ", 100)+"</p>"))
	_, err = s.check(t, s.options())
	var re *RefusedError
	if !errors.As(err, &re) || len(re.Text) > maxPageText+len("…") || !strings.HasSuffix(re.Text, "…") {
		t.Fatalf("page text not clipped: %q", re.Text)
	}
}

// A provider sesame cannot reach from here is no verdict: the login goes
// on, with a one-line warning, since the browser may reach it (a proxy).
func TestPreflightUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	o := Options{Endpoints: provider.Endpoints{Auth: dead + "/auth", Token: dead + "/token"}, ClientID: "cli", Stderr: &bytes.Buffer{}}
	req := newRequest(o)
	req.redirectURI = "http://127.0.0.1:41234/callback"
	v, err := o.preflight(context.Background(), req, false)
	if err != nil || v.Checked() || !strings.Contains(v.Warning, "could not check the sign-in with the provider first") ||
		!strings.Contains(v.Warning, "opening the browser anyway") || strings.Contains(v.Warning, "\n") {
		t.Fatalf("verdict %+v, err %v", v, err)
	}
}

// TestPreflightPushed covers the pushed requests (RFC 9126) of a provider
// that offers them: what it accepts gives a request_uri, what it refuses
// ends the login, and what fails otherwise falls back to the GET.
func TestPreflightPushed(t *testing.T) {
	t.Run("accepted", func(t *testing.T) {
		idp := testidp.New(t, testidp.Options{PAR: true})
		o := idpOptions(t, idp)
		req := newRequest(o)
		req.redirectURI = "http://127.0.0.1:41234/callback"
		v, err := o.preflight(context.Background(), req, false)
		if err != nil || v.Pushed == nil || !strings.HasPrefix(v.Pushed.RequestURI, "urn:ietf:params:oauth:request_uri:") || !v.Checked() || idp.Pushes() != 1 {
			t.Fatalf("verdict %+v, err %v, pushes %d", v, err, idp.Pushes())
		}
		if time.Until(v.Pushed.Expiry) < 50*time.Second {
			t.Errorf("expiry %v", v.Pushed.Expiry)
		}
	})
	for _, tt := range []struct {
		name  string
		idp   testidp.Options
		edit  func(*Options)
		want  []string
		param string
	}{
		{name: "unknown client", edit: func(o *Options) { o.ClientID = "nope" },
			want: []string{"invalid_client (client authentication failed)", `check client_id "nope" at the provider`}},
		{name: "redirect URI matched exactly", idp: testidp.Options{ExactRedirect: "http://127.0.0.1:8765/callback"}, edit: func(o *Options) { o.Port = 41234 },
			want: []string{`register the redirect URI http://127.0.0.1:41234/callback for client_id "test-client" at the provider`, "or http://127.0.0.1/callback"}},
		{name: "unknown scope", edit: func(o *Options) { o.Scopes = []string{"openid", "admin"} },
			want: []string{"invalid_scope", "check the scopes"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.idp.PAR = true
			idp := testidp.New(t, tt.idp)
			o := idpOptions(t, idp)
			tt.edit(&o)
			req := newRequest(o)
			req.redirectURI = "http://127.0.0.1:41234/callback"
			_, err := o.preflight(context.Background(), req, false)
			var re *RefusedError
			if !errors.As(err, &re) || re.Where != "pushed authorization request endpoint" {
				t.Fatalf("want a refused push, got %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%s", w, err)
				}
			}
		})
	}
	t.Run("server error falls back to the GET", func(t *testing.T) {
		s := newStub(t, redirectTo(303, func(*http.Request) string { return "/login" }))
		s.par = page(500, "text/html", "<h1>oops</h1>")
		o := s.options()
		v, err := s.check(t, o)
		stderr := o.Stderr.(*bytes.Buffer).String()
		if err != nil || v.Pushed != nil || !v.Checked() || s.parHits.Load() != 1 || s.authHits.Load() != 1 ||
			!strings.Contains(stderr, "warning: sesame could not push the authorization request (") || !strings.Contains(stderr, "checking the request with a GET instead") {
			t.Fatalf("verdict %+v, err %v, stderr %q", v, err, stderr)
		}
	})
	t.Run("broker without upstream PAR falls back quietly", func(t *testing.T) {
		s := newStub(t, page(200, "text/html", "sign in"))
		s.par = func(http.ResponseWriter, *http.Request) { t.Error("pushed to the provider, not the broker") }
		broker := httptest.NewServer(page(404, "application/json", `{"error":"invalid_request","error_description":"no pushed requests"}`))
		t.Cleanup(broker.Close)
		o := s.options()
		o.PushURL = broker.URL + "/par"
		v, err := s.check(t, o)
		if err != nil || !v.Checked() || s.authHits.Load() != 1 || o.Stderr.(*bytes.Buffer).Len() != 0 {
			t.Fatalf("verdict %+v, err %v, stderr %q", v, err, o.Stderr)
		}
	})
	t.Run("a broker's refusal names the broker", func(t *testing.T) {
		s := newStub(t, page(200, "text/html", "sign in"))
		s.par = page(201, "application/json", `{}`)
		broker := httptest.NewServer(page(400, "application/json", `{"error":"invalid_request","error_description":"redirect_uri is not allowed for this client"}`))
		t.Cleanup(broker.Close)
		o := s.options()
		o.PushURL = broker.URL + "/par"
		_, err := s.check(t, o)
		if err == nil || !strings.Contains(err.Error(), "and allow it in sesame-broker's redirect_uris") || s.parHits.Load() != 0 {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("required, and unreachable", func(t *testing.T) {
		s := newStub(t, page(200, "text/html", "sign in"))
		s.par = func(w http.ResponseWriter, _ *http.Request) { panic(http.ErrAbortHandler) }
		o := s.options()
		o.Endpoints.PARRequired = true
		_, err := s.check(t, o)
		if err == nil || !strings.Contains(err.Error(), "takes pushed authorization requests only") || s.authHits.Load() != 0 {
			t.Fatalf("err %v", err)
		}
	})
}

// --no-preflight sends nothing before the browser opens, unless the
// provider takes pushed requests only.
func TestNoPreflight(t *testing.T) {
	s := newStub(t, page(400, "text/html", oidcProviderErrorPage))
	s.par = page(401, "application/json", `{"error":"invalid_client"}`)
	o := s.options()
	o.NoPreflight = true
	v, err := s.check(t, o)
	if err != nil || v.Checked() || s.authHits.Load()+s.parHits.Load() != 0 {
		t.Fatalf("verdict %+v, err %v, %d requests", v, err, s.authHits.Load()+s.parHits.Load())
	}
	o.Endpoints.PARRequired = true
	if _, err := s.check(t, o); err == nil || s.parHits.Load() != 1 {
		t.Fatalf("a provider that requires PAR was not pushed to: %v", err)
	}
	// Check (doctor) checks whatever the profile says.
	o.Endpoints.PARRequired = false
	if _, err := Check(context.Background(), o, "http://127.0.0.1:8765/callback"); err == nil || s.parHits.Load() != 2 {
		t.Fatalf("Check skipped the check: %v", err)
	}
}

// A pushed request that expired before the browser came (--no-browser,
// a slow user) is pushed again when the start URL is opened.
func TestPushedTargetPushesAgain(t *testing.T) {
	idp := testidp.New(t, testidp.Options{PAR: true})
	o := idpOptions(t, idp)
	req := newRequest(o)
	req.redirectURI = "http://127.0.0.1:41234/callback"
	fresh := &grant.Pushed{RequestURI: "urn:x:fresh", Expiry: time.Now().Add(time.Minute)}
	got, err := o.pushedTarget(context.Background(), req, fresh)()
	if err != nil || !strings.Contains(got, url.QueryEscape("urn:x:fresh")) || idp.Pushes() != 0 {
		t.Fatalf("fresh: %s %v", got, err)
	}
	stale := &grant.Pushed{RequestURI: "urn:x:stale", Expiry: time.Now().Add(-time.Second)}
	got, err = o.pushedTarget(context.Background(), req, stale)()
	if err != nil || strings.Contains(got, "stale") || idp.Pushes() != 1 {
		t.Fatalf("stale: %s %v (pushes %d)", got, err, idp.Pushes())
	}
	u, _ := url.Parse(got)
	if q := u.Query(); len(q) != 2 || q.Get("client_id") != idp.ClientID() || q.Get("request_uri") == "" {
		t.Errorf("the browser's URL carries more than client_id and request_uri: %s", got)
	}
}

func idpOptions(t *testing.T, idp *testidp.IdP) Options {
	t.Helper()
	var saved []*session.Tokens
	o := options(t, idp, idp.Browser(testidp.Approve), &saved)
	return o
}

// countingBrowser records whether the login opened it.
type countingBrowser struct{ opened atomic.Int32 }

func (b *countingBrowser) Open(string) error { b.opened.Add(1); return nil }

// A refused login fails before the browser opens, and fast: nothing is
// opened, nothing saved, and the listener is gone.
func TestRunRefusedBeforeBrowser(t *testing.T) {
	for _, par := range []bool{false, true} {
		idp := testidp.New(t, testidp.Options{PAR: par})
		var saved []*session.Tokens
		b := &countingBrowser{}
		o := options(t, idp, nil, &saved)
		o.Browser, o.ClientID, o.Timeout = b, "nope", time.Minute
		start := time.Now()
		_, err := Run(context.Background(), o)
		if err == nil || !strings.Contains(err.Error(), `check client_id "nope"`) || time.Since(start) > 5*time.Second {
			t.Fatalf("PAR %v: err %v after %s", par, err, time.Since(start))
		}
		if b.opened.Load() != 0 || len(saved) != 0 || strings.Contains(o.Stderr.(*bytes.Buffer).String(), "/start/") {
			t.Errorf("PAR %v: browser opened %d times, %d saved, stderr %q", par, b.opened.Load(), len(saved), o.Stderr)
		}
	}
}

// A login with a pushed request goes through: the browser is sent to the
// request_uri URL, and the provider's pushed request is the one that is
// authorized.
func TestRunPushed(t *testing.T) {
	idp := testidp.New(t, testidp.Options{PAR: true, IssParameter: true})
	b := idp.Browser(testidp.Approve)
	var saved []*session.Tokens
	var mu sync.Mutex // Trace may be called concurrently
	var steps []string
	o := options(t, idp, b, &saved)
	o.Trace = func(step string, _ time.Duration) { mu.Lock(); defer mu.Unlock(); steps = append(steps, step) }
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	<-b.Done()
	mu.Lock()
	defer mu.Unlock()
	if idp.Pushes() != 1 || len(saved) != 1 || !strings.Contains(strings.Join(steps, " "), "preflight") {
		t.Errorf("pushes %d, saved %d, steps %v", idp.Pushes(), len(saved), steps)
	}
}

// With --no-preflight, an unknown client gets as far as the browser.
func TestRunNoPreflightOpensBrowser(t *testing.T) {
	idp := testidp.New(t, testidp.Options{})
	var saved []*session.Tokens
	b := &countingBrowser{}
	o := options(t, idp, nil, &saved)
	o.Browser, o.ClientID, o.NoPreflight, o.Timeout = b, "nope", true, 300*time.Millisecond
	_, err := Run(context.Background(), o)
	if err == nil || b.opened.Load() != 1 {
		t.Fatalf("err %v, opened %d", err, b.opened.Load())
	}
}
