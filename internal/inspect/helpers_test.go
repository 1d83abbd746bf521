package inspect_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/sesame-cli/sesame/internal/testidp"
)

// issued is when every test provider issues its tokens; the checks run
// five minutes later unless a test says otherwise.
var issued = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

func at(d time.Duration) func() time.Time {
	return func() time.Time { return issued.Add(d) }
}

func newIdP(t *testing.T, alg string) *testidp.IdP {
	t.Helper()
	return testidp.New(t, testidp.Options{Alg: alg, Path: "/oidc", Now: at(0)})
}

// signRS256 signs like the provider would, for tokens whose header the
// provider would never write (no kid, a retired kid).
func signRS256(t *testing.T, p *testidp.IdP) func([]byte) []byte {
	return func(in []byte) []byte {
		sum := sha256.Sum256(in)
		sig, err := rsa.SignPKCS1v15(rand.Reader, p.Key().Key.(*rsa.PrivateKey), crypto.SHA256, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
}

// b64 encodes a segment as RFC 7515 §2 wants it.
func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// jwksServer serves the key sets keys(n) returns for its nth request, and
// counts the requests.
func jwksServer(t *testing.T, keys func(n int) []jose.JSONWebKey) (string, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: keys(int(n.Add(1)))})
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/jwks", &n
}

// closedURL is a URL nothing listens on.
func closedURL(t *testing.T) string {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.URL
}

// accessToken logs in with the organizations scope (and the resources in
// extra, if any) and refreshes with extra, which gives a JWT access token:
// organization_id=ORG an organization token, resource=R one for R.
func accessToken(t *testing.T, p *testidp.IdP, extra url.Values) string {
	t.Helper()
	verifier := strings.Repeat("v", 43)
	sum := sha256.Sum256([]byte(verifier))
	redirect := "http://127.0.0.1:49152/callback"
	q := url.Values{
		"response_type": {"code"}, "client_id": {p.ClientID()}, "redirect_uri": {redirect},
		"scope": {"openid offline_access " + testidp.OrganizationsScope}, "state": {"s"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
		"resource": extra["resource"],
	}
	next, err := p.Authorize(p.Endpoint("/auth")+"?"+q.Encode(), testidp.Approve)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(next)
	body := postForm(t, p.Endpoint("/token"), url.Values{
		"grant_type": {"authorization_code"}, "client_id": {p.ClientID()}, "code": {u.Query().Get("code")},
		"redirect_uri": {redirect}, "code_verifier": {verifier},
	})
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {p.ClientID()}, "refresh_token": {body["refresh_token"].(string)}}
	for k, v := range extra {
		form[k] = v
	}
	return postForm(t, p.Endpoint("/token"), form)["access_token"].(string)
}

func postForm(t *testing.T, u string, form url.Values) map[string]any {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %v %v", u, resp.StatusCode, body, err)
	}
	return body
}
