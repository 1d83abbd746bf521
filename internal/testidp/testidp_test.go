package testidp_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/sesame-cli/sesame/internal/testidp"
)

// client is the part of a native app the tests need: one authorization
// request's secrets and a way to redeem the code.
type client struct {
	p                                *testidp.IdP
	verifier, state, nonce, redirect string
}

func newClient(p *testidp.IdP) *client {
	return &client{
		p:        p,
		verifier: strings.Repeat("v", 43),
		state:    "state-1", nonce: "nonce-1",
		redirect: "http://127.0.0.1:49152/callback",
	}
}

func (c *client) authURL(scope string, extra url.Values) string {
	sum := sha256.Sum256([]byte(c.verifier))
	q := url.Values{
		"response_type": {"code"}, "client_id": {c.p.ClientID()},
		"redirect_uri": {c.redirect}, "scope": {scope}, "state": {c.state}, "nonce": {c.nonce},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	for k, v := range extra {
		q[k] = v
	}
	return c.p.Endpoint("/auth") + "?" + q.Encode()
}

// code approves the request and returns the code from the redirect.
func (c *client) code(t *testing.T, scope string) string {
	t.Helper()
	next, err := c.p.Authorize(c.authURL(scope, nil), testidp.Approve)
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	u, _ := url.Parse(next)
	if got := u.Query().Get("state"); got != c.state {
		t.Fatalf("state = %q, want %q", got, c.state)
	}
	return u.Query().Get("code")
}

func (c *client) exchange(t *testing.T, code string) (int, map[string]any) {
	t.Helper()
	return post(t, c.p.Endpoint("/token"), url.Values{
		"grant_type": {"authorization_code"}, "client_id": {c.p.ClientID()},
		"code": {code}, "redirect_uri": {c.redirect}, "code_verifier": {c.verifier},
	})
}

func (c *client) refresh(t *testing.T, rt string) (int, map[string]any) {
	t.Helper()
	return post(t, c.p.Endpoint("/token"), url.Values{
		"grant_type": {"refresh_token"}, "client_id": {c.p.ClientID()}, "refresh_token": {rt},
	})
}

// login runs a whole approved login and returns the token response.
func (c *client) login(t *testing.T, scope string) map[string]any {
	t.Helper()
	status, body := c.exchange(t, c.code(t, scope))
	if status != http.StatusOK {
		t.Fatalf("exchange: %d %v", status, body)
	}
	return body
}

// clock is a fake clock the provider reads from its handler goroutines.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Unix(1_700_000_000, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func post(t *testing.T, u string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if resp.ContentLength != 0 {
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatalf("decode %s: %v", u, err)
		}
	}
	return resp.StatusCode, body
}

func wantError(t *testing.T, status int, body map[string]any, wantStatus int, code string) {
	t.Helper()
	if status != wantStatus || body["error"] != code {
		t.Fatalf("got %d %v, want %d %s", status, body, wantStatus, code)
	}
}

func userinfo(t *testing.T, p *testidp.IdP, at any) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.Endpoint("/userinfo"), nil)
	req.Header.Set("Authorization", fmt.Sprintf("Bearer %v", at))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
}

func verifier(p *testidp.IdP, now func() time.Time) *oidc.IDTokenVerifier {
	keys := oidc.NewRemoteKeySet(context.Background(), p.Endpoint("/jwks"))
	return oidc.NewVerifier(p.Issuer, keys, &oidc.Config{
		ClientID: p.ClientID(), Now: now,
		SupportedSigningAlgs: []string{oidc.RS256, oidc.PS256, oidc.ES384, oidc.EdDSA},
	})
}

func TestIDTokenVerifiesForEachAlg(t *testing.T) {
	for _, alg := range []string{"RS256", "PS256", "ES384", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			p := testidp.New(t, testidp.Options{Alg: alg, Path: "/oidc"})
			var md struct {
				Issuer string   `json:"issuer"`
				Algs   []string `json:"id_token_signing_alg_values_supported"`
				PKCE   []string `json:"code_challenge_methods_supported"`
			}
			resp, err := http.Get(p.Issuer + "/.well-known/openid-configuration")
			if err != nil {
				t.Fatal(err)
			}
			json.NewDecoder(resp.Body).Decode(&md)
			resp.Body.Close()
			if md.Issuer != p.Issuer || fmt.Sprint(md.Algs) != "["+alg+"]" || fmt.Sprint(md.PKCE) != "[S256]" {
				t.Fatalf("discovery = %+v", md)
			}

			c := newClient(p)
			body := c.login(t, "openid offline_access")
			tok, err := verifier(p, nil).Verify(context.Background(), body["id_token"].(string))
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			var claims struct{ Name, Email string }
			tok.Claims(&claims)
			if tok.Subject != testidp.Subject || tok.Nonce != c.nonce || claims.Name != testidp.Name || claims.Email != testidp.Email {
				t.Fatalf("claims: sub %q nonce %q %+v", tok.Subject, tok.Nonce, claims)
			}
			if body["token_type"] != "Bearer" || body["expires_in"] != 3600.0 || body["scope"] != "openid offline_access" || body["refresh_token"] == nil {
				t.Fatalf("token response: %v", body)
			}
			if status, _ := userinfo(t, p, body["access_token"]); status != http.StatusOK {
				t.Fatalf("userinfo: %d", status)
			}
		})
	}
}

func TestForgedIDTokensAreRefused(t *testing.T) {
	p := testidp.New(t, testidp.Options{})
	v := verifier(p, nil)
	if _, err := v.Verify(context.Background(), p.SignIDToken(p.Claims())); err != nil {
		t.Fatalf("honest token: %v", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(p.Key().Public().Key)
	if err != nil {
		t.Fatal(err)
	}
	kid := p.Key().KeyID
	wrongAud := p.Claims()
	wrongAud["aud"] = "someone-else"
	for name, raw := range map[string]string{
		"alg none": testidp.ForgeJWT(map[string]any{"alg": "none", "kid": kid}, p.Claims(), nil),
		"HS256 keyed with the public key": testidp.ForgeJWT(map[string]any{"alg": "HS256", "kid": kid}, p.Claims(), func(in []byte) []byte {
			m := hmac.New(sha256.New, pub)
			m.Write(in)
			return m.Sum(nil)
		}),
		"wrong audience": p.SignIDToken(wrongAud),
	} {
		if _, err := v.Verify(context.Background(), raw); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
}

func TestAuthorizeRefuses(t *testing.T) {
	p := testidp.New(t, testidp.Options{RedirectPath: "/callback"})
	c := newClient(p)
	for _, tc := range []struct {
		name     string
		extra    url.Values
		code     string
		redirect bool // the error goes back to the client
	}{
		{"remote host", url.Values{"redirect_uri": {"http://example.com:8000/callback"}}, "invalid_request", false},
		{"localhost", url.Values{"redirect_uri": {"http://localhost:8000/callback"}}, "invalid_request", false},
		{"other loopback address", url.Values{"redirect_uri": {"http://127.0.0.2:8000/callback"}}, "invalid_request", false},
		{"https", url.Values{"redirect_uri": {"https://127.0.0.1:8000/callback"}}, "invalid_request", false},
		{"other path", url.Values{"redirect_uri": {"http://127.0.0.1:8000/other"}}, "invalid_request", false},
		{"unknown client", url.Values{"client_id": {"nobody"}}, "invalid_client", false},
		{"no PKCE", url.Values{"code_challenge": nil, "code_challenge_method": nil}, "invalid_request", true},
		{"plain PKCE", url.Values{"code_challenge_method": {"plain"}}, "invalid_request", true},
		{"no state", url.Values{"state": nil}, "invalid_request", true},
		{"implicit", url.Values{"response_type": {"token"}}, "unsupported_response_type", true},
		{"unknown scope", url.Values{"scope": {"openid admin"}}, "invalid_scope", true},
		{"repeated parameter", url.Values{"scope": {"openid", "email"}}, "invalid_request", true},
		{"relative resource", url.Values{"resource": {"api"}}, "invalid_target", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.Authorize(c.authURL("openid", tc.extra), testidp.Approve)
			var ae *testidp.AuthorizeError
			if !errors.As(err, &ae) || ae.Code != tc.code || (ae.Redirect != "") != tc.redirect {
				t.Fatalf("err = %#v, want %s (redirect %v)", err, tc.code, tc.redirect)
			}
			if tc.redirect && !strings.HasPrefix(ae.Redirect, c.redirect+"?") {
				t.Fatalf("redirect = %s", ae.Redirect)
			}
		})
	}
	if _, err := p.Authorize(c.authURL("openid", url.Values{"redirect_uri": {"http://[::1]:8000/callback"}}), testidp.Approve); err != nil {
		t.Fatalf("[::1]: %v", err)
	}
	if _, err := p.Authorize(strings.Replace(c.authURL("openid", nil), "/auth", "/evil", 1), testidp.Approve); err == nil {
		t.Fatal("another endpoint was accepted")
	}
}

func TestAuthorizeActions(t *testing.T) {
	p := testidp.New(t, testidp.Options{IssParameter: true})
	c := newClient(p)
	query := func(a testidp.Action) url.Values {
		next, err := p.Authorize(c.authURL("openid", nil), a)
		var ae *testidp.AuthorizeError
		if errors.As(err, &ae) {
			next = ae.Redirect
		} else if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(next)
		return u.Query()
	}
	if q := query(testidp.Approve); q.Get("iss") != p.Issuer || q.Get("state") != c.state || q.Get("code") == "" {
		t.Errorf("approve: %v", q)
	}
	if q := query(testidp.Deny); q.Get("error") != "access_denied" || q.Get("state") != c.state || q.Get("iss") != p.Issuer {
		t.Errorf("deny: %v", q)
	}
	if q := query(testidp.WrongState); q.Get("state") == c.state || q.Get("code") == "" {
		t.Errorf("wrong state: %v", q)
	}
	status, body := c.exchange(t, query(testidp.BadCode).Get("code"))
	wantError(t, status, body, 400, "invalid_grant")
}

func TestCodeRedemptionIsStrict(t *testing.T) {
	p := testidp.New(t, testidp.Options{})
	c := newClient(p)

	t.Run("wrong verifier", func(t *testing.T) {
		code := c.code(t, "openid")
		status, body := post(t, p.Endpoint("/token"), url.Values{
			"grant_type": {"authorization_code"}, "client_id": {p.ClientID()},
			"code": {code}, "redirect_uri": {c.redirect}, "code_verifier": {strings.Repeat("w", 43)},
		})
		wantError(t, status, body, 400, "invalid_grant")
		status, body = c.exchange(t, code) // the failed attempt burnt the code
		wantError(t, status, body, 400, "invalid_grant")
	})
	t.Run("redirect_uri mismatch", func(t *testing.T) {
		code := c.code(t, "openid")
		status, body := post(t, p.Endpoint("/token"), url.Values{
			"grant_type": {"authorization_code"}, "client_id": {p.ClientID()},
			"code": {code}, "redirect_uri": {"http://127.0.0.1:49153/callback"}, "code_verifier": {c.verifier},
		})
		wantError(t, status, body, 400, "invalid_grant")
	})
	t.Run("reused code revokes its tokens", func(t *testing.T) {
		reused := p.ReuseDetected()
		code := c.code(t, "openid offline_access")
		_, first := c.exchange(t, code)
		status, body := c.exchange(t, code)
		wantError(t, status, body, 400, "invalid_grant")
		if status, _ := userinfo(t, p, first["access_token"]); status != http.StatusUnauthorized {
			t.Fatalf("userinfo after code reuse: %d", status)
		}
		status, body = c.refresh(t, first["refresh_token"].(string))
		wantError(t, status, body, 400, "invalid_grant")
		if p.ReuseDetected() != reused+1 {
			t.Fatalf("ReuseDetected = %d, want %d", p.ReuseDetected(), reused+1)
		}
	})
	t.Run("client secret from a public client", func(t *testing.T) {
		status, body := post(t, p.Endpoint("/token"), url.Values{
			"grant_type": {"authorization_code"}, "client_id": {p.ClientID()}, "client_secret": {"x"},
			"code": {c.code(t, "openid")}, "redirect_uri": {c.redirect}, "code_verifier": {c.verifier},
		})
		wantError(t, status, body, 401, "invalid_client")
	})
	t.Run("expired code", func(t *testing.T) {
		clock := newClock()
		p := testidp.New(t, testidp.Options{Now: clock.Now})
		c := newClient(p)
		code := c.code(t, "openid")
		clock.Advance(2 * time.Minute)
		status, body := c.exchange(t, code)
		wantError(t, status, body, 400, "invalid_grant")
	})
}

func TestRefreshRotationAndReuse(t *testing.T) {
	p := testidp.New(t, testidp.Options{})
	c := newClient(p)
	first := c.login(t, "openid offline_access")
	rt1 := first["refresh_token"].(string)

	status, second := c.refresh(t, rt1)
	if status != http.StatusOK || second["refresh_token"] == rt1 || second["id_token"] == nil {
		t.Fatalf("refresh: %d %v", status, second)
	}
	if _, err := verifier(p, nil).Verify(context.Background(), second["id_token"].(string)); err != nil {
		t.Fatalf("refreshed ID token: %v", err)
	}
	if status, _ := userinfo(t, p, second["access_token"]); status != http.StatusOK {
		t.Fatalf("userinfo: %d", status)
	}

	status, body := c.refresh(t, rt1) // a stolen copy, or a racing process
	wantError(t, status, body, 400, "invalid_grant")
	status, body = c.refresh(t, second["refresh_token"].(string))
	wantError(t, status, body, 400, "invalid_grant")
	status, challenge := userinfo(t, p, second["access_token"])
	if status != http.StatusUnauthorized || !strings.Contains(challenge, `error="invalid_token"`) {
		t.Fatalf("userinfo after reuse: %d %q", status, challenge)
	}
	if p.ReuseDetected() != 1 || p.Grants("refresh_token") != 3 || p.Grants("authorization_code") != 1 {
		t.Fatalf("reuse %d, refresh %d, code %d", p.ReuseDetected(), p.Grants("refresh_token"), p.Grants("authorization_code"))
	}
}

func TestRefreshOptions(t *testing.T) {
	p := testidp.New(t, testidp.Options{NoRefreshIDToken: true, OfflineNeedsConsent: true})
	c := newClient(p)
	if body := c.login(t, "openid offline_access"); body["refresh_token"] != nil || body["scope"] != "openid" {
		t.Fatalf("offline_access without prompt=consent: %v", body)
	}
	status, body := c.exchange(t, codeFrom(t, p, c.authURL("openid offline_access", url.Values{"prompt": {"consent"}})))
	if status != http.StatusOK || body["refresh_token"] == nil {
		t.Fatalf("with consent: %d %v", status, body)
	}
	status, body = c.refresh(t, body["refresh_token"].(string))
	if status != http.StatusOK || body["id_token"] != nil {
		t.Fatalf("refresh: %d %v", status, body)
	}
	status, body = post(t, p.Endpoint("/token"), url.Values{
		"grant_type": {"refresh_token"}, "client_id": {p.ClientID()},
		"refresh_token": {body["refresh_token"].(string)}, "scope": {"openid email"},
	})
	wantError(t, status, body, 400, "invalid_scope")
}

func codeFrom(t *testing.T, p *testidp.IdP, authURL string) string {
	t.Helper()
	next, err := p.Authorize(authURL, testidp.Approve)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(next)
	return u.Query().Get("code")
}

func TestRevokeAndIntrospect(t *testing.T) {
	clock := newClock()
	start := clock.Now()
	p := testidp.New(t, testidp.Options{Now: clock.Now, AccessTokenTTL: time.Minute})
	c := newClient(p)
	body := c.login(t, "openid offline_access")
	at, rt := body["access_token"].(string), body["refresh_token"].(string)

	introspect := func(tok string) map[string]any {
		_, r := post(t, p.Endpoint("/introspect"), url.Values{"client_id": {p.ClientID()}, "token": {tok}})
		return r
	}
	if r := introspect(at); r["active"] != true || r["sub"] != testidp.Subject || r["exp"] != float64(start.Add(time.Minute).Unix()) {
		t.Fatalf("introspect: %v", r)
	}
	clock.Advance(2 * time.Minute)
	if status, _ := userinfo(t, p, at); status != http.StatusUnauthorized {
		t.Fatalf("userinfo with an expired token: %d", status)
	}
	status, body := c.refresh(t, rt)
	if status != http.StatusOK {
		t.Fatalf("refresh: %d %v", status, body)
	}
	if status, _ := post(t, p.Endpoint("/revoke"), url.Values{"client_id": {p.ClientID()}, "token": {body["refresh_token"].(string)}, "token_type_hint": {"refresh_token"}}); status != http.StatusOK {
		t.Fatalf("revoke: %d", status)
	}
	if r := introspect(body["access_token"].(string)); r["active"] != false {
		t.Fatalf("introspect after revoke: %v", r)
	}
	if status, _ := post(t, p.Endpoint("/revoke"), url.Values{"client_id": {p.ClientID()}, "token": {"unknown"}}); status != http.StatusOK {
		t.Fatalf("revoke unknown: %d", status)
	}
}

func TestFailNextAndDelay(t *testing.T) {
	p := testidp.New(t, testidp.Options{})
	c := newClient(p)
	code := c.code(t, "openid")
	p.FailNext(2, http.StatusBadGateway, "text/html", "<html>bad gateway</html>")
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {p.ClientID()}, "code": {code}, "redirect_uri": {c.redirect}, "code_verifier": {c.verifier}}
	for range 2 {
		resp, err := http.PostForm(p.Endpoint("/token"), form)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway || resp.Header.Get("Content-Type") != "text/html" || string(b) != "<html>bad gateway</html>" {
			t.Fatalf("fault: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
	}
	if status, body := c.exchange(t, code); status != http.StatusOK { // the faults never reached the code
		t.Fatalf("after faults: %d %v", status, body)
	}
	if p.Grants("authorization_code") != 3 {
		t.Fatalf("Grants = %d", p.Grants("authorization_code"))
	}

	p.Delay(time.Second)
	hc := &http.Client{Timeout: 50 * time.Millisecond}
	if _, err := hc.PostForm(p.Endpoint("/token"), form); err == nil {
		t.Fatal("delayed response arrived before the client's timeout")
	}
}

// TestBrowser starts at a stand-in for the CLI's loopback listener, which
// redirects /start to the authorization URL and redeems the code before
// answering the callback.
func TestBrowser(t *testing.T) {
	p := testidp.New(t, testidp.Options{})
	for _, tc := range []struct {
		action testidp.Action
		page   string
	}{
		{testidp.Approve, "signed in"},
		{testidp.Deny, "access_denied"},
	} {
		c := newClient(p)
		ln := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/start" {
				http.Redirect(w, r, c.authURL("openid", nil), http.StatusFound)
				return
			}
			if e := r.URL.Query().Get("error"); e != "" {
				http.Error(w, e, http.StatusForbidden)
				return
			}
			resp, err := http.PostForm(p.Endpoint("/token"), url.Values{
				"grant_type": {"authorization_code"}, "client_id": {p.ClientID()},
				"code": {r.URL.Query().Get("code")}, "redirect_uri": {c.redirect}, "code_verifier": {c.verifier},
			})
			if err != nil || resp.StatusCode != http.StatusOK {
				http.Error(w, fmt.Sprint("exchange failed: ", err), http.StatusBadGateway)
				return
			}
			resp.Body.Close()
			io.WriteString(w, "signed in")
		}))
		c.redirect = ln.URL + "/callback"
		b := p.Browser(tc.action)
		if err := b.Open(ln.URL + "/start"); err != nil {
			t.Fatal(err)
		}
		if err := b.Open(ln.URL + "/start"); err == nil {
			t.Error("second Open succeeded")
		}
		select {
		case <-b.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("browser did not finish")
		}
		if status, body := b.LastPage(); !strings.Contains(body, tc.page) || b.Err() != nil {
			t.Errorf("action %d: page %d %q, err %v", tc.action, status, body, b.Err())
		}
		ln.Close()
	}
}
