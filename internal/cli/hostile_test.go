package cli

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/store"
	"github.com/sesame-cli/sesame/internal/testidp"
)

// The hostile-input suite: every case throws one broken or malicious input
// at a surface (the loopback listener, ID tokens, the token endpoint, the
// store, the configuration) and checks that sesame exits non-zero (or the
// request gets a 4xx), says what went wrong in a line or two, and that the
// stored tokens are byte-identical afterwards. The broker's surface has its
// own suite in internal/broker.

// hostileBrowser plays the user but lets a case act on the authorization
// request first: send requests of its own to the listener, stage a crafted
// token response, or skip the real redirect.
type hostileBrowser struct {
	idp     *testidp.IdP
	act     func(b *hostileBrowser, authURL string, q url.Values) (redirect bool)
	start   string // the one-time start URL sesame opened the browser at
	mu      sync.Mutex
	results []int // statuses the hostile requests got
	err     error // why the stand-in could not play its part
	done    chan struct{}
}

// testHTTP makes the tests' own requests: a listener that stops answering
// fails the test in seconds instead of hanging it.
var testHTTP = &http.Client{Timeout: 10 * time.Second}

func (b *hostileBrowser) Open(startURL string) error {
	b.start = startURL
	go func() {
		defer close(b.done)
		authURL, err := testidp.ResolveStart(startURL)
		if err != nil {
			b.fail(err)
			return
		}
		u, _ := url.Parse(authURL)
		q := u.Query()
		if b.act != nil && !b.act(b, authURL, q) {
			return
		}
		redirect, err := b.idp.Authorize(authURL, testidp.Approve)
		if err != nil {
			b.fail(err)
			return
		}
		if resp, err := testHTTP.Get(redirect); err == nil {
			resp.Body.Close()
		}
	}()
	return nil
}

func (b *hostileBrowser) fail(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.err = err
}

// send makes a hostile request to the listener and records its status
// (0 when the connection failed).
func (b *hostileBrowser) send(method, rawURL string) {
	req, _ := http.NewRequest(method, rawURL, nil)
	status := 0
	if resp, err := testHTTP.Do(req); err == nil {
		status = resp.StatusCode
		resp.Body.Close()
	}
	b.mu.Lock()
	b.results = append(b.results, status)
	b.mu.Unlock()
}

func callbackURL(q url.Values, query string) string {
	return q.Get("redirect_uri") + "?" + query
}

type hostileCase struct {
	surface, name string
	// setup changes the world before the command runs (a crafted store
	// entry, a failing token endpoint, ...).
	setup func(h *harness)
	// act drives the browser during a login; nil for non-login commands.
	act  func(b *hostileBrowser, authURL string, q url.Values) bool
	args []string
	// wantCode is the exit code; want is a substring of the message.
	wantCode int
	want     string
	// wantStatus, when set, is the status every hostile request must get.
	wantStatus int
	// stdoutOK allows output on stdout (a command that succeeds and prints
	// its data, such as status); want is then not required on stderr when
	// wantCode is 0.
	stdoutOK bool
	// mayStore allows the stored tokens to change: a recovery path (login
	// replacing a damaged entry) whose after checks what was stored.
	mayStore bool
	// after, when set, checks more once the command has run: a catcher
	// that must have received nothing, output that must be inert.
	after func(t *testing.T, h *harness, stdout, stderr string)
}

func TestHostileInputs(t *testing.T) {
	var cases []hostileCase
	for _, suite := range []func() []hostileCase{
		listenerCases, idTokenCases, tokenEndpointCases, storeCases,
		redirectCases, endpointPolicyCases, idTokenRuleCases, terminalCases, storageCases, loopbackCases,
	} {
		cases = append(cases, suite()...)
	}
	counts := map[string]int{}
	for _, c := range cases {
		counts[c.surface]++
		t.Run(c.surface+"/"+c.name, func(t *testing.T) {
			// Most cases wait for a login to time out: they run side by
			// side. The storage cases change the working directory or use
			// go-keyring's process-wide mock, so they run alone, first.
			if c.surface != "storage" {
				t.Parallel()
			}
			runHostile(t, c)
		})
	}
	if len(cases) < 40 {
		t.Errorf("%d hostile cases; the suite promises at least 40", len(cases))
	}
	t.Logf("hostile cases by surface: %v (total %d, plus the broker's own suite)", counts, len(cases))
}

func runHostile(t *testing.T, c hostileCase) {
	o := testidp.Options{IssParameter: true, AccessTokenTTL: time.Minute}
	h := newIsolatedHarness(t, o)
	if c.surface == "storage" {
		h = newHarness(t, o)
	}
	mem := &memStore{m: map[string][]byte{}}
	h.keychain = func() store.Store { return mem }
	h.login("--scope", "openid profile email offline_access")
	h.clock.Add(2 * time.Minute) // the access token is due: commands refresh
	if c.setup != nil {
		c.setup(h)
	}
	before := snapshot(mem)

	b := &hostileBrowser{idp: h.idp, act: c.act, done: make(chan struct{})}
	var out, errb bytes.Buffer
	f := NewFactory(strings.NewReader(""), &out, &errb, func(k string) string { return h.env[k] })
	f.Browser, f.Now = b, h.clock.Now
	f.HTTP = &http.Client{Timeout: 2 * time.Second}
	f.Keychain = h.keychain
	if h.storeOverride != nil {
		f.Keychain = h.storeOverride
	}
	var args []string
	for _, a := range c.args { // $NAME: a value only known once setup ran
		if v, ok := strings.CutPrefix(a, "$"); ok {
			a = h.env[v]
		}
		args = append(args, a)
	}
	if c.act != nil {
		args = append([]string{"login", "--timeout", "1500ms"}, args...)
	}
	code := Run(context.Background(), f, args)
	if c.act != nil {
		select {
		case <-b.done:
		case <-time.After(10 * time.Second):
			t.Error("the browser stand-in did not finish")
		}
		b.mu.Lock()
		if b.err != nil {
			t.Errorf("the browser stand-in could not play its part: %v", b.err)
		}
		b.mu.Unlock()
	}

	if code != c.wantCode {
		t.Errorf("exit %d, want %d\nstderr: %s", code, c.wantCode, errb.String())
	}
	if out.Len() != 0 && !c.stdoutOK {
		t.Errorf("stdout carried %q", out.String())
	}
	msg := errb.String()
	if i := strings.LastIndex(msg, "sesame: "); c.want == "" {
		// a success, or a command that reported on stdout: nothing to explain
	} else if i < 0 || !strings.Contains(msg[i:], c.want) {
		t.Errorf("message lacks %q:\n%s", c.want, msg)
	} else if lines := strings.Count(strings.TrimSpace(msg[i:]), "\n") + 1; lines > 2 {
		t.Errorf("message is %d lines, want one or two:\n%s", lines, msg[i:])
	}
	if c.after != nil {
		c.after(t, h, out.String(), msg)
	}
	for _, s := range b.results {
		if c.wantStatus != 0 && s != c.wantStatus {
			t.Errorf("hostile request got %d, want %d (all: %v)", s, c.wantStatus, b.results)
		}
	}
	if after := snapshot(mem); !c.mayStore && !maps.EqualFunc(before, after, bytes.Equal) {
		t.Error("the stored tokens changed")
	}
}

func snapshot(m *memStore) map[string][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string][]byte, len(m.m))
	for k, v := range m.m {
		out[k] = bytes.Clone(v)
	}
	return out
}

// listenerCases attack the loopback listener while a login waits. None
// completes the real redirect, so each login must end without storing.
func listenerCases() []hostileCase {
	timeout := "timed out"
	only := func(method, query string) func(*hostileBrowser, string, url.Values) bool {
		return func(b *hostileBrowser, _ string, q url.Values) bool {
			query = strings.ReplaceAll(query, "STATE", url.QueryEscape(q.Get("state")))
			query = strings.ReplaceAll(query, "ISS", url.QueryEscape(b.idp.Issuer))
			b.send(method, callbackURL(q, query))
			return false
		}
	}
	return []hostileCase{
		{surface: "listener", name: "wrong state", act: only("GET", "code=c&state=forged"), wantCode: 1, want: timeout, wantStatus: 400},
		{surface: "listener", name: "missing state", act: only("GET", "code=c"), wantCode: 1, want: timeout, wantStatus: 400},
		{surface: "listener", name: "state from an earlier login", act: func(b *hostileBrowser, _ string, q url.Values) bool {
			b.send("GET", callbackURL(q, "code=c&state=stale-state-of-another-login-0123456789"))
			return false
		}, wantCode: 1, want: timeout, wantStatus: 400},
		{surface: "listener", name: "POST to the callback", act: only("POST", "code=c&state=STATE"), wantCode: 1, want: timeout, wantStatus: 405},
		{surface: "listener", name: "PUT to the callback", act: only("PUT", "code=c&state=STATE"), wantCode: 1, want: timeout, wantStatus: 405},
		{surface: "listener", name: "another path", act: func(b *hostileBrowser, _ string, q url.Values) bool {
			b.send("GET", strings.Replace(q.Get("redirect_uri"), "/callback", "/favicon.ico", 1)+"?code=c&state="+q.Get("state"))
			return false
		}, wantCode: 1, want: timeout, wantStatus: 404},
		{surface: "listener", name: "path traversal", act: func(b *hostileBrowser, _ string, q url.Values) bool {
			b.send("GET", strings.Replace(q.Get("redirect_uri"), "/callback", "/callback/../admin", 1))
			return false
		}, wantCode: 1, want: timeout, wantStatus: 404},
		{surface: "listener", name: "huge query string", act: only("GET", "state=STATE&code="+strings.Repeat("A", 200<<10)), wantCode: 1, want: timeout, wantStatus: 431},
		{surface: "listener", name: "slow client holding a connection", act: func(b *hostileBrowser, _ string, q url.Values) bool {
			u, _ := url.Parse(q.Get("redirect_uri"))
			if conn, err := net.Dial("tcp", u.Host); err == nil {
				fmt.Fprint(conn, "GET /callback?code=c&st") // never finishes
				defer conn.Close()
			}
			b.send("GET", callbackURL(q, "code=c")) // still served at once
			return false
		}, wantCode: 1, want: timeout, wantStatus: 400},
		{surface: "listener", name: "foreign iss (mix-up)", act: only("GET", "code=c&state=STATE&iss=https%3A%2F%2Fevil.example"), wantCode: 1, want: "issuer_mismatch", wantStatus: 400},
		{surface: "listener", name: "missing iss where required", act: only("GET", "code=c&state=STATE"), wantCode: 1, want: "issuer_mismatch", wantStatus: 400},
		{surface: "listener", name: "provider error access_denied", act: only("GET", "error=access_denied&state=STATE&iss=ISS"), wantCode: 1, want: "access_denied", wantStatus: 400},
		{surface: "listener", name: "provider error with markup", act: only("GET", "error=invalid_request&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E+redirect_uri&state=STATE&iss=ISS"), wantCode: 1, want: "invalid_request", wantStatus: 400},
		{surface: "listener", name: "neither code nor error", act: only("GET", "state=STATE&iss=ISS"), wantCode: 1, want: "neither a code nor an error", wantStatus: 400},
		{surface: "listener", name: "second callback while the exchange runs", setup: func(h *harness) { h.idp.Delay(300 * time.Millisecond) }, act: func(b *hostileBrowser, authURL string, q url.Values) bool {
			redirect, err := b.idp.Authorize(authURL, testidp.BadCode)
			if err != nil {
				return false
			}
			go func() {
				resp, err := http.Get(redirect)
				if err == nil {
					resp.Body.Close()
				}
			}()
			time.Sleep(100 * time.Millisecond)
			b.send("GET", callbackURL(q, "code=replayed&state="+url.QueryEscape(q.Get("state"))+"&iss="+url.QueryEscape(b.idp.Issuer)))
			return false
		}, wantCode: 1, want: "invalid_grant", wantStatus: 409},
	}
}

// idTokenCases stage a token response whose ID token is wrong in one way;
// the nonce is the login's own unless the case is about the nonce.
func idTokenCases() []hostileCase {
	stage := func(make func(idp *testidp.IdP, claims map[string]any) string) func(*hostileBrowser, string, url.Values) bool {
		return func(b *hostileBrowser, _ string, q url.Values) bool {
			claims := b.idp.Claims()
			claims["nonce"] = q.Get("nonce")
			idt := make(b.idp, claims)
			body, _ := json.Marshal(map[string]any{"access_token": "at-hostile", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt-hostile", "id_token": idt})
			b.idp.FailNext(1, 200, "application/json", string(body))
			return true
		}
	}
	tweak := func(k string, v any) func(*testidp.IdP, map[string]any) string {
		return func(idp *testidp.IdP, c map[string]any) string {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
			return idp.SignIDToken(c)
		}
	}
	publicKeyHMAC := func(idp *testidp.IdP, c map[string]any) string {
		pub, _ := x509.MarshalPKIXPublicKey(idp.Key().Public().Key)
		secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
		return testidp.ForgeJWT(map[string]any{"alg": "HS256", "kid": idp.Key().KeyID}, c, func(in []byte) []byte {
			m := hmac.New(sha256.New, secret)
			m.Write(in)
			return m.Sum(nil)
		})
	}
	want := "ID token"
	return []hostileCase{
		{surface: "id_token", name: "bad signature", act: stage(func(idp *testidp.IdP, c map[string]any) string {
			s := idp.SignIDToken(c)
			i := strings.LastIndexByte(s, '.') + 3
			return s[:i] + map[bool]string{true: "B", false: "A"}[s[i] == 'A'] + s[i+1:]
		}), wantCode: 1, want: want},
		{surface: "id_token", name: "alg none", act: stage(func(_ *testidp.IdP, c map[string]any) string {
			return testidp.ForgeJWT(map[string]any{"alg": "none"}, c, nil)
		}), wantCode: 1, want: want},
		{surface: "id_token", name: "HS256 keyed with the public key", act: stage(publicKeyHMAC), wantCode: 1, want: want},
		{surface: "id_token", name: "unknown kid", act: stage(func(idp *testidp.IdP, c map[string]any) string {
			s := idp.SignIDToken(c)
			parts := strings.SplitN(s, ".", 2)
			return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"not-a-key-of-this-provider"}`)) + "." + parts[1]
		}), wantCode: 1, want: want},
		{surface: "id_token", name: "wrong iss", act: stage(tweak("iss", "https://evil.example")), wantCode: 1, want: want},
		{surface: "id_token", name: "wrong aud", act: stage(tweak("aud", "another-client")), wantCode: 1, want: want},
		{surface: "id_token", name: "wrong nonce", act: stage(tweak("nonce", "replayed-nonce")), wantCode: 1, want: "nonce"},
		{surface: "id_token", name: "no nonce", act: stage(tweak("nonce", nil)), wantCode: 1, want: "nonce"},
		{surface: "id_token", name: "expired", act: stage(tweak("exp", time.Now().Add(-time.Hour).Unix())), wantCode: 1, want: "expired"},
		{surface: "id_token", name: "iat far in the future", act: stage(tweak("iat", time.Now().Add(24*time.Hour).Unix())), wantCode: 1, want: "future"},
		{surface: "id_token", name: "malformed base64", act: stage(func(*testidp.IdP, map[string]any) string { return "e30.!!!.sig" }), wantCode: 1, want: want},
		{surface: "id_token", name: "payload not JSON", act: stage(func(*testidp.IdP, map[string]any) string {
			return testidp.ForgeJWT(map[string]any{"alg": "RS256"}, nil, nil)[:10] + "." + base64.RawURLEncoding.EncodeToString([]byte("not json")) + ".c2ln"
		}), wantCode: 1, want: want},
		{surface: "id_token", name: "oversize", act: stage(tweak("padding", strings.Repeat("x", 100<<10))), wantCode: 1, want: "bytes"},
		{surface: "id_token", name: "missing although openid was asked", act: func(b *hostileBrowser, _ string, _ url.Values) bool {
			b.idp.FailNext(1, 200, "application/json", `{"access_token":"at","token_type":"Bearer","expires_in":3600}`)
			return true
		}, wantCode: 1, want: "no ID token"},
	}
}

// tokenEndpointCases break the token endpoint, at login (the exchange) and
// on refresh (sesame token with a due access token).
func tokenEndpointCases() []hostileCase {
	atLogin := func(status int, ctype, body string) func(*hostileBrowser, string, url.Values) bool {
		return func(b *hostileBrowser, _ string, _ url.Values) bool {
			b.idp.FailNext(1, status, ctype, body)
			return true
		}
	}
	onRefresh := func(status int, ctype, body string) func(*harness) {
		return func(h *harness) { h.idp.FailNext(1, status, ctype, body) }
	}
	token := []string{"token"}
	return []hostileCase{
		{surface: "token_endpoint", name: "exchange: HTTP 500 with HTML", act: atLogin(500, "text/html", "<html>down</html>"), wantCode: 1, want: "HTTP 500"},
		{surface: "token_endpoint", name: "exchange: truncated JSON", act: atLogin(200, "application/json", `{"access_token":"a`), wantCode: 1, want: "unusable response"},
		{surface: "token_endpoint", name: "exchange: no access_token", act: atLogin(200, "application/json", `{"token_type":"Bearer"}`), wantCode: 1, want: "access_token"},
		{surface: "token_endpoint", name: "exchange: negative expires_in", act: atLogin(200, "application/json", `{"access_token":"a","token_type":"Bearer","expires_in":-5}`), wantCode: 1, want: "expires_in"},
		{surface: "token_endpoint", name: "exchange: empty 400", act: atLogin(400, "", ""), wantCode: 1, want: "HTTP 400"},
		{surface: "token_endpoint", name: "exchange: invalid_grant", act: atLogin(400, "application/json", `{"error":"invalid_grant"}`), wantCode: 1, want: "invalid_grant"},
		{surface: "token_endpoint", name: "exchange: slower than the timeout", setup: func(h *harness) { h.idp.Delay(3 * time.Second) }, act: atLogin(0, "", ""), wantCode: 1, want: "exchange the authorization code"},
		{surface: "token_endpoint", name: "refresh: HTTP 500 with HTML", setup: onRefresh(500, "text/html", "<html>"), args: token, wantCode: 1, want: "HTTP 500"},
		{surface: "token_endpoint", name: "refresh: HTML with 200", setup: onRefresh(200, "text/html", "<html>login</html>"), args: token, wantCode: 1, want: "unusable response"},
		{surface: "token_endpoint", name: "refresh: truncated JSON", setup: onRefresh(200, "application/json", `{"access_token":`), args: token, wantCode: 1, want: "unusable response"},
		{surface: "token_endpoint", name: "refresh: no access_token", setup: onRefresh(200, "application/json", `{"refresh_token":"x"}`), args: token, wantCode: 1, want: "access_token"},
		{surface: "token_endpoint", name: "refresh: absurd expires_in", setup: onRefresh(200, "application/json", `{"access_token":"a","token_type":"Bearer","expires_in":99999999999}`), args: token, wantCode: 1, want: "expires_in"},
		{surface: "token_endpoint", name: "refresh: empty body", setup: onRefresh(502, "", ""), args: token, wantCode: 1, want: "HTTP 502"},
		{surface: "token_endpoint", name: "refresh: invalid_grant", setup: onRefresh(400, "application/json", `{"error":"invalid_grant","error_description":"grant revoked"}`), args: token, wantCode: 4, want: "sesame login",
			// The login has ended: the store says so, and keeps no token.
			mayStore: true, after: func(t *testing.T, h *harness, _, _ string) {
				if code, out, _ := h.run(testidp.Approve, "status", "--json"); code != 4 || !strings.Contains(out, `"ended": true`) {
					t.Errorf("status after invalid_grant: %d %s", code, out)
				}
			}},
		{surface: "token_endpoint", name: "refresh: slower than the timeout", setup: func(h *harness) { h.idp.Delay(3 * time.Second) }, args: token, wantCode: 1, want: "refresh the tokens"},
		{surface: "token_endpoint", name: "refresh: unreachable", setup: func(h *harness) { h.env["SESAME_BROKER"] = "http://127.0.0.1:1" }, args: token, wantCode: 1, want: "could not reach"},
		{surface: "token_endpoint", name: "refresh: TLS certificate not trusted", setup: func(h *harness) {
			srv := httptest.NewUnstartedServer(http.NotFoundHandler())
			srv.Config.ErrorLog = log.New(io.Discard, "", 0)
			srv.StartTLS()
			h.t.Cleanup(srv.Close)
			h.env["SESAME_BROKER"] = srv.URL
		}, args: token, wantCode: 1, want: "certificate"},
	}
}

// storeCases break the keychain and what it holds.
func storeCases() []hostileCase {
	put := func(raw string) func(*harness) {
		return func(h *harness) {
			s := h.keychain()
			s.Set("default", []byte(raw))
		}
	}
	failing := func(err error) func(*harness) {
		return func(h *harness) {
			h.storeOverride = func() store.Store { return errStore{err} }
		}
	}
	token := []string{"token"}
	return []hostileCase{
		{surface: "store", name: "entry not JSON", setup: put("garbage{"), args: token, wantCode: 4, want: "cannot be used"},
		{surface: "store", name: "entry from a future format", setup: put(`{"version":7,"access_token":"a"}`), args: token, wantCode: 4, want: "format version 7"},
		{surface: "store", name: "entry without an access token", setup: put(`{"version":1}`), args: token, wantCode: 4, want: "no access token"},
		{surface: "store", name: "entry of 4 MiB", setup: put(strings.Repeat("x", 4<<20)), args: token, wantCode: 4, want: "cannot be used"},
		{surface: "store", name: "keychain absent", setup: failing(&store.UnavailableError{Err: errors.New("org.freedesktop.secrets was not provided by any .service files")}), args: token, wantCode: 1, want: "--insecure-storage"},
		{surface: "store", name: "keychain locked (no answer)", setup: failing(&store.TimeoutError{After: 10 * time.Second}), args: token, wantCode: 1, want: "locked"},
		{surface: "store", name: "keychain entry damaged", setup: failing(&store.CorruptError{Key: "default", Reason: "checksum mismatch"}), args: token, wantCode: 4, want: "damaged (checksum mismatch); `sesame login` replaces them and `sesame logout --no-revoke` removes them"},
		{surface: "store", name: "config file malformed", setup: func(h *harness) {
			os.WriteFile(filepath.Join(h.home, "config", "sesame", "config.yaml"), []byte("profiles:\n  default: [unclosed\n"), 0o600)
		}, args: token, wantCode: 1, want: "config.yaml"},
	}
}

// errStore fails every call with one error, as a broken keychain does.
type errStore struct{ err error }

func (s errStore) Get(string) ([]byte, error) { return nil, s.err }
func (s errStore) Set(string, []byte) error   { return s.err }
func (s errStore) Delete(string) error        { return s.err }
func (s errStore) Backend() string            { return "keychain" }
