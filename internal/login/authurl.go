package login

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/oauth2"

	"github.com/sesame-cli/sesame/internal/config"
)

// CheckParams refuses extra authorization parameters that would override
// what sesame sends for security (config.IsReservedParam).
func CheckParams(params map[string]string) error {
	for k := range params {
		if config.IsReservedParam(k) {
			return fmt.Errorf("--param %s is not allowed: sesame sets %s itself (use --scope or --resource for those)", k, k)
		}
	}
	return nil
}

// request is one authorization request (RFC 6749 §4.1.1 with RFC 7636
// PKCE, OpenID Connect nonce and RFC 8707 resources).
type request struct {
	authURL, clientID, redirectURI string
	scopes, resources              []string
	params                         map[string]string
	state, nonce, verifier         string
	// jkt is the DPoP key's thumbprint (RFC 9449 §10): the provider binds
	// the code to the key, so only a proof made with it redeems the code.
	jkt string
}

func (r request) url() (string, error) {
	u, err := url.Parse(r.authURL)
	if err != nil {
		return "", fmt.Errorf("authorization endpoint %q: %w", r.authURL, err)
	}
	// Keep any parameters the endpoint URL already has.
	u.RawQuery = r.values(u.Query()).Encode()
	return u.String(), nil
}

// values adds the authorization request's parameters to base: what the
// authorization URL carries, and what a pushed request sends (RFC 9126
// §2.1).
func (r request) values(base url.Values) url.Values {
	q := url.Values{}
	for k, vs := range base {
		q[k] = vs
	}
	q.Set("response_type", "code")
	q.Set("client_id", r.clientID)
	q.Set("redirect_uri", r.redirectURI)
	if len(r.scopes) > 0 {
		q.Set("scope", strings.Join(r.scopes, " "))
	}
	q.Set("state", r.state)
	q.Set("code_challenge", oauth2.S256ChallengeFromVerifier(r.verifier))
	q.Set("code_challenge_method", "S256")
	if r.nonce != "" {
		q.Set("nonce", r.nonce)
	}
	for _, res := range r.resources {
		q.Add("resource", res)
	}
	if r.jkt != "" {
		q.Set("dpop_jkt", r.jkt)
	}
	for k, v := range r.params {
		q.Set(k, v)
	}
	// oidc-provider (and so Logto) drops offline_access unless consent is
	// prompted (OpenID Connect Core §11), leaving the login without a
	// refresh token.
	if slices.Contains(r.scopes, "offline_access") && q.Get("prompt") == "" {
		q.Set("prompt", "consent")
	}
	return q
}

// pushedURL is where the browser goes for a pushed request: the
// authorization endpoint with client_id and request_uri only (RFC 9126
// §4), besides any parameters the endpoint URL itself has.
func (r request) pushedURL(requestURI string) (string, error) {
	u, err := url.Parse(r.authURL)
	if err != nil {
		return "", fmt.Errorf("authorization endpoint %q: %w", r.authURL, err)
	}
	q := u.Query()
	q.Set("client_id", r.clientID)
	q.Set("request_uri", requestURI)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// newRequest starts an authorization request for o: fresh state, PKCE
// verifier and, for OpenID Connect, nonce. The redirect URI comes later,
// from the listener.
func newRequest(o Options) request {
	req := request{
		authURL: o.Endpoints.Auth, clientID: o.ClientID,
		scopes: o.Scopes, resources: o.Resources, params: o.Params,
		state: randomToken(32), verifier: oauth2.GenerateVerifier(),
	}
	if slices.Contains(o.Scopes, "openid") {
		req.nonce = randomToken(32)
	}
	// In session mode the broker redeems the code, without the key: the
	// key binds the broker's session instead (session.go).
	if o.DPoP != nil && o.Session == nil {
		req.jkt = o.DPoP.Thumbprint()
	}
	return req
}

// randomToken returns n random bytes, base64url-encoded: 32 bytes gives the
// 256 bits used for state and nonce, well over RFC 6749's 128-bit minimum.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error()) // never happens on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
