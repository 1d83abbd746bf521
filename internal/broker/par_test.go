package broker

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-cli/sesame/internal/grant"
	"github.com/sesame-cli/sesame/internal/testidp"
)

// parBroker is a broker for a confidential client in front of the strict
// test provider, which offers pushed authorization requests when par is
// set.
func parBroker(t *testing.T, par bool, method string) (*testidp.IdP, string, *Broker) {
	t.Helper()
	idp := testidp.New(t, testidp.Options{ClientID: "sesame", ClientSecret: "top-secret", PAR: par})
	cfg := Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.RateLimit = 0
	cfg.Clients = []Client{
		{ID: "sesame", Issuer: idp.Issuer, Secret: "top-secret", AuthMethod: method},
		{ID: "refresh-only", Issuer: idp.Issuer, Secret: "x", GrantTypes: []string{GrantRefreshToken}},
	}
	srv, err := Start(t.Context(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return idp, srv.URL, srv.Broker
}

func pushForm() url.Values {
	sum := sha256.Sum256([]byte(testVerifier))
	return url.Values{
		"client_id": {"sesame"}, "response_type": {"code"}, "redirect_uri": {testRedirect},
		"scope": {"openid offline_access"}, "state": {"st"}, "nonce": {"no"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
		"login_hint": {"alice"},
	}
}

// TestPushThroughBroker: the CLI's own PAR client pushes through the
// broker, which adds the client's credentials, and the request_uri it
// gets back leads the browser through the provider to a code that the
// broker then redeems.
func TestPushThroughBroker(t *testing.T) {
	for _, method := range []string{AuthClientSecretBasic, AuthClientSecretPost} {
		t.Run(method, func(t *testing.T) {
			idp, base, _ := parBroker(t, true, method)
			params := pushForm()
			params.Del("client_id")
			pushed, err := grant.Client{ClientID: "sesame", HTTP: testHTTP}.Push(t.Context(), base+"/par", params)
			if err != nil {
				t.Fatalf("push through the broker: %v", err)
			}
			if !strings.HasPrefix(pushed.RequestURI, "urn:ietf:params:oauth:request_uri:") || idp.Pushes() != 1 {
				t.Fatalf("request_uri %q, pushes %d", pushed.RequestURI, idp.Pushes())
			}
			q := url.Values{"client_id": {"sesame"}, "request_uri": {pushed.RequestURI}}
			back, err := idp.Authorize(idp.Endpoint("/auth")+"?"+q.Encode(), testidp.Approve)
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(back)
			if u.Query().Get("state") != "st" || u.Query().Get("code") == "" {
				t.Fatalf("the pushed request did not come back: %s", back)
			}
			gc := grant.Client{ClientID: "sesame", TokenURL: base + "/token", HTTP: testHTTP}
			if _, err := gc.Exchange(t.Context(), u.Query().Get("code"), testVerifier, testRedirect, nil); err != nil {
				t.Fatalf("exchange the code of the pushed request: %v", err)
			}
		})
	}
}

// TestPushRefusals: what the broker will not push never reaches the
// provider, and is refused as the broker refuses everything, in RFC 6749
// error JSON; a provider without PAR is a 404 the CLI falls back on.
func TestPushRefusals(t *testing.T) {
	idp, base, b := parBroker(t, true, AuthClientSecretBasic)
	without := func(k string) string { f := pushForm(); f.Del(k); return f.Encode() }
	with := func(k, v string) string { f := pushForm(); f.Set(k, v); return f.Encode() }
	for _, c := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"unknown client", with("client_id", "someone-else"), 401, "invalid_client"},
		{"no client_id", without("client_id"), 401, "invalid_client"},
		{"client without the code flow", with("client_id", "refresh-only"), 400, "unauthorized_client"},
		{"caller secret", with("client_secret", testCallerSecret), 400, "invalid_request"},
		{"no code_challenge", without("code_challenge"), 400, "invalid_request"},
		{"plain PKCE", with("code_challenge_method", "plain"), 400, "invalid_request"},
		{"no PKCE method", without("code_challenge_method"), 400, "invalid_request"},
		{"token response type", with("response_type", "token"), 400, "invalid_request"},
		{"no redirect_uri", without("redirect_uri"), 400, "invalid_request"},
		{"remote redirect_uri", with("redirect_uri", "https://evil.example/callback"), 400, "invalid_request"},
		{"localhost redirect_uri", with("redirect_uri", "http://localhost:8080/callback"), 400, "invalid_request"},
		{"request object", with("request", "eyJhbGciOiJub25lIn0.e30."), 400, "invalid_request"},
		{"request_uri", with("request_uri", "urn:ietf:params:oauth:request_uri:x"), 400, "invalid_request"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, err := testHTTP.Post(base+"/par", "application/x-www-form-urlencoded", strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			checkOAuthError(t, resp, c.status, c.code)
		})
	}
	if idp.Pushes() != 0 {
		t.Errorf("a refused push reached the provider (%d pushes)", idp.Pushes())
	}

	// The provider's own refusal comes back as it was sent.
	resp, err := testHTTP.Post(base+"/par", "application/x-www-form-urlencoded", strings.NewReader(
		func() string { f := pushForm(); f.Set("scope", "openid bogus"); return f.Encode() }()))
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); resp.StatusCode != 400 || !strings.Contains(body, `"error":"invalid_scope"`) {
		t.Errorf("the provider's refusal came back as %d %s", resp.StatusCode, body)
	}

	// GET is not a push.
	resp, err = testHTTP.Get(base + "/par")
	if err != nil {
		t.Fatal(err)
	}
	checkOAuthError(t, resp, http.StatusMethodNotAllowed, "invalid_request")

	body := metricsText(t, b)
	for _, want := range []string{
		`sesame_broker_requests_total{endpoint="par",grant_type="",outcome="refused"} 14`,
		`sesame_broker_requests_total{endpoint="par",grant_type="",outcome="provider_error"} 1`,
		`sesame_broker_upstream_duration_seconds_count{endpoint="par"} 1`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestPushWithoutUpstreamPAR: a provider that offers no pushed requests
// gets nothing, and the CLI a 404 error object, its cue to check the
// request with a GET instead.
func TestPushWithoutUpstreamPAR(t *testing.T) {
	_, base, _ := parBroker(t, false, AuthClientSecretBasic)
	resp, err := testHTTP.Post(base+"/par", "application/x-www-form-urlencoded", strings.NewReader(pushForm().Encode()))
	if err != nil {
		t.Fatal(err)
	}
	checkOAuthError(t, resp, http.StatusNotFound, "invalid_request")
	params := pushForm()
	params.Del("client_id")
	_, err = grant.Client{ClientID: "sesame", HTTP: testHTTP}.Push(t.Context(), base+"/par", params)
	var ge *grant.Error
	if !errors.As(err, &ge) || ge.Status != http.StatusNotFound {
		t.Errorf("push to a broker without upstream PAR: %v", err)
	}
}

func metricsText(t *testing.T, b *Broker) string {
	t.Helper()
	rec := httptest.NewRecorder()
	b.serveMetrics(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return rec.Body.String()
}

// FuzzValidatePush: whatever a caller sends to /par, what the broker
// pushes with its client's credentials is an authorization code request
// with PKCE S256 and an allowed redirect URI, and carries neither a
// caller's credentials nor a request object the broker did not check.
func FuzzValidatePush(f *testing.F) {
	const form = "application/x-www-form-urlencoded"
	good := pushForm()
	good.Set("client_id", testClientID)
	for _, seed := range []string{
		good.Encode(),
		with(good, "code_challenge_method", ""),
		set(good, "code_challenge_method", "plain"),
		set(good, "redirect_uri", "http://127.0.0.1:1/../callback"),
		set(good, "request", "eyJ"),
		set(good, "client_secret", "x"),
		set(good, "client_id", "refresh-only"),
		good.Encode() + "&state=again",
		"a=%zz",
	} {
		f.Add(form, "", seed)
	}
	clients := fuzzClients(f)
	f.Fuzz(func(t *testing.T, contentType, authorization, body string) {
		a, e := validateRequest(epPAR, contentType, authorization, []byte(body), clients)
		if e != nil {
			checkRefusal(t, e)
			return
		}
		if authorization != "" || !a.client.authCode {
			t.Fatalf("accepted a push by %q with Authorization %q", a.client.id, authorization)
		}
		q := a.form
		if q.Get("response_type") != "code" || q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256" {
			t.Fatalf("pushes a request without the code flow or PKCE S256: %v", q)
		}
		for _, k := range []string{"client_secret", "client_assertion", "client_assertion_type", "request", "request_uri"} {
			if q.Has(k) {
				t.Fatalf("pushes %s", k)
			}
		}
		if !slices.ContainsFunc(a.client.redirects, func(p redirectPattern) bool { return p.match(q.Get("redirect_uri")) }) {
			t.Fatalf("pushes redirect_uri %q", q.Get("redirect_uri"))
		}
		checkRedirectInvariants(t, q.Get("redirect_uri"))
	})
}
