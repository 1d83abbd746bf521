package sessionbroker

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sesame-cli/sesame/internal/dpop"
	"github.com/sesame-cli/sesame/internal/testidp"
)

// proof is a proof of k for the session token endpoint, as the CLI makes
// it: named after the issuer.
func (hs *harness) proof(t testing.TB, k *dpop.Key) string {
	t.Helper()
	p, err := k.Proof(dpop.ProofClaims{Method: http.MethodPost, URL: hs.issuer + routeToken, Now: hs.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// login is an authorization response the CLI got from an upstream.
type login struct {
	provider, code, verifier, redirect, nonce string
}

// authorize plays the CLI and the user at an upstream's authorization
// endpoint.
func (hs *harness) authorize(t testing.TB, provider string) login {
	t.Helper()
	idp := hs.idps[provider]
	l := login{provider: provider, verifier: randomString(48), redirect: "http://127.0.0.1:49152/callback", nonce: randomString(16)}
	sum := sha256.Sum256([]byte(l.verifier))
	q := url.Values{"client_id": {idp.ClientID()}, "redirect_uri": {l.redirect}, "response_type": {"code"},
		"state": {"s1"}, "scope": {strings.Join(DefaultScopes(), " ")}, "nonce": {l.nonce},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	next, err := idp.Authorize(idp.Endpoint("/auth")+"?"+q.Encode(), testidp.Approve)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(next)
	if err != nil {
		t.Fatal(err)
	}
	l.code = u.Query().Get("code")
	return l
}

func (l login) form() url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {l.code}, "redirect_uri": {l.redirect},
		"code_verifier": {l.verifier}, "provider": {l.provider}, "nonce": {l.nonce}, "client_id": {"ignored"}}
}

// answer is a response, its JSON body decoded.
type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func (a answer) str(name string) string { s, _ := a.body[name].(string); return s }

// post sends form to route with the given DPoP headers.
func (hs *harness) post(t testing.TB, route string, form url.Values, proofs ...string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, hs.issuer+route, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	return hs.do(t, req)
}

func (hs *harness) do(t testing.TB, req *http.Request) answer {
	t.Helper()
	resp, err := hs.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, header: resp.Header}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(body) > 0 && json.Unmarshal(body, &a.body) != nil {
		t.Fatalf("%s %s: the answer is not JSON: %s", req.Method, req.URL.Path, body)
	}
	return a
}

// start logs in at provider with k and returns the token response.
func (hs *harness) start(t testing.TB, provider string, k *dpop.Key) answer {
	t.Helper()
	a := hs.post(t, routeToken, hs.authorize(t, provider).form(), hs.proof(t, k))
	if a.status != http.StatusOK {
		t.Fatalf("login at %s: HTTP %d %v", provider, a.status, a.body)
	}
	return a
}

func (hs *harness) renew(t testing.TB, blob string, k *dpop.Key) answer {
	t.Helper()
	return hs.post(t, routeToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {blob}}, hs.proof(t, k))
}

func (hs *harness) introspect(t testing.TB, token string) answer {
	t.Helper()
	return hs.post(t, routeIntrospect, url.Values{"token": {token}})
}

// wantError checks an RFC 6749 §5.2 answer.
func wantError(t *testing.T, a answer, status int, code string) {
	t.Helper()
	if a.status != status || a.str("error") != code {
		t.Fatalf("got HTTP %d %v, want %d %s", a.status, a.body, status, code)
	}
	if a.str("error_description") == "" {
		t.Errorf("%s has no error_description", code)
	}
	if a.body["access_token"] != nil || a.body["refresh_token"] != nil {
		t.Errorf("a refusal carries tokens: %v", a.body)
	}
}
