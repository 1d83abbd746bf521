package testidp

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// codeTTL is how long an authorization code can be redeemed; oidc-provider
// uses the same 60 seconds, RFC 6749 §4.1.2 allows at most 10 minutes.
const codeTTL = time.Minute

// Action is what the user does at the authorization endpoint.
type Action int

const (
	// Approve signs in and consents.
	Approve Action = iota
	// Deny refuses, giving error=access_denied.
	Deny
	// WrongState approves but answers with a different state, as a forged
	// or replayed response would; the client must refuse it.
	WrongState
	// BadCode approves but answers with a code the token endpoint does not
	// know.
	BadCode
)

// AuthorizeError is an authorization request the provider refused. When
// the client and redirect URI were valid, Redirect is where the browser is
// sent with the error (RFC 6749 §4.1.2.1); otherwise it is empty, because a
// provider must never redirect to an unverified URI, and shows an error
// page instead.
type AuthorizeError struct {
	Code, Description string
	Redirect          string
}

func (e *AuthorizeError) Error() string {
	return fmt.Sprintf("authorization request refused: %s: %s", e.Code, e.Description)
}

// Authorize plays the user at the authorization endpoint: it checks authURL
// as a strict provider would and returns where the browser is redirected
// next, redirect_uri?code=…&state=… (plus iss with IssParameter).
func (p *IdP) Authorize(authURL string, a Action) (string, error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return "", fmt.Errorf("authorization URL: %w", err)
	}
	endpoint := *u
	endpoint.RawQuery, endpoint.Fragment = "", ""
	if endpoint.String() != p.Endpoint("/auth") {
		return "", fmt.Errorf("%s is not this provider's authorization endpoint %s", endpoint.String(), p.Endpoint("/auth"))
	}
	return p.authorize(u.Query(), a)
}

// handleAuth serves the authorization endpoint to a plain HTTP client: the
// user is taken to approve at once.
func (p *IdP) handleAuth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	next, err := p.authorize(r.URL.Query(), Approve)
	var ae *AuthorizeError
	switch {
	case err == nil:
		http.Redirect(w, r, next, http.StatusFound)
	case errors.As(err, &ae) && ae.Redirect != "":
		http.Redirect(w, r, ae.Redirect, http.StatusFound)
	default:
		http.Error(w, err.Error(), http.StatusBadRequest)
	}
}

func (p *IdP) authorize(q url.Values, a Action) (string, error) {
	if q.Has("request_uri") {
		pushed, err := p.pushedRequest(q)
		if err != nil {
			return "", err
		}
		q = pushed
	}
	scopes, err := p.validate(q)
	if err != nil {
		return "", err
	}
	redirect, state := q.Get("redirect_uri"), q.Get("state")
	fail := func(code, desc string) (string, error) {
		return "", p.authError(redirect, state, code, desc)
	}
	if a == Deny {
		return fail("access_denied", "the user denied the request")
	}

	code := random()
	p.mu.Lock()
	p.codes[code] = &authCode{
		redirectURI: redirect, challenge: q.Get("code_challenge"), expires: p.now().Add(codeTTL),
		grant: &grant{
			clientID: p.opts.ClientID, scope: strings.Join(scopes, " "),
			nonce: q.Get("nonce"), resources: q["resource"], authTime: p.now(),
		},
	}
	p.mu.Unlock()
	switch a {
	case WrongState:
		state = random()
	case BadCode:
		code = random()
	}
	return p.respond(redirect, url.Values{"code": {code}, "state": {state}}), nil
}

// authError is an error the provider sends back to a verified redirect
// URI (RFC 6749 §4.1.2.1).
func (p *IdP) authError(redirect, state, code, desc string) *AuthorizeError {
	v := url.Values{"error": {code}, "error_description": {desc}}
	if state != "" {
		v.Set("state", state)
	}
	return &AuthorizeError{Code: code, Description: desc, Redirect: p.respond(redirect, v)}
}

// validate checks an authorization request as a strict provider does and
// returns the scopes it grants. The client and the redirect URI come
// first: until both are known good, an error is shown, never sent to the
// redirect URI.
func (p *IdP) validate(q url.Values) ([]string, error) {
	if len(q["client_id"]) != 1 || q.Get("client_id") != p.opts.ClientID {
		return nil, &AuthorizeError{Code: "invalid_client", Description: fmt.Sprintf("unknown client_id %q", q.Get("client_id"))}
	}
	redirect := q.Get("redirect_uri")
	if len(q["redirect_uri"]) != 1 {
		return nil, &AuthorizeError{Code: "invalid_request", Description: "exactly one redirect_uri is required"}
	}
	if err := p.checkRedirect(redirect); err != nil {
		return nil, &AuthorizeError{Code: "invalid_request", Description: "redirect_uri: " + err.Error()}
	}
	state := q.Get("state")
	fail := func(code, desc string) ([]string, error) {
		return nil, p.authError(redirect, state, code, desc)
	}
	for k, vs := range q {
		if len(vs) > 1 && k != "resource" { // RFC 6749 §3.1
			return fail("invalid_request", k+" is repeated")
		}
	}
	if rt := q.Get("response_type"); rt != "code" {
		return fail("unsupported_response_type", fmt.Sprintf("response_type %q is not supported; use code", rt))
	}
	if state == "" {
		return fail("invalid_request", "state is required")
	}
	if m := q.Get("code_challenge_method"); m != "S256" {
		return fail("invalid_request", fmt.Sprintf("code_challenge_method %q is not supported; use S256", m))
	}
	challenge := q.Get("code_challenge")
	if !validPKCE(challenge, 43, 43) {
		return fail("invalid_request", "code_challenge must be a base64url SHA-256 digest (RFC 7636 §4.2)")
	}
	scopes := strings.Fields(q.Get("scope"))
	for _, s := range scopes {
		if !slices.Contains(p.scopesSupported(), s) {
			return fail("invalid_scope", fmt.Sprintf("scope %q is not known", s))
		}
	}
	if p.opts.OfflineNeedsConsent && q.Get("prompt") != "consent" {
		scopes = slices.DeleteFunc(scopes, func(s string) bool { return s == "offline_access" })
	}
	for _, res := range q["resource"] {
		if u, err := url.Parse(res); err != nil || !u.IsAbs() || u.Fragment != "" {
			return fail("invalid_target", fmt.Sprintf("resource %q must be an absolute URI without a fragment (RFC 8707 §2)", res))
		}
	}
	return scopes, nil
}

// checkRedirect accepts only loopback IP literals over http, any port
// (RFC 8252 §7.3); "localhost" is refused as §8.3 advises.
func (p *IdP) checkRedirect(raw string) error {
	if raw == "" {
		return errors.New("missing")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "http" || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return fmt.Errorf("%q must be http://127.0.0.1:PORT/PATH without credentials or fragment", raw)
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() || (ip.To4() != nil && u.Hostname() != "127.0.0.1") {
		return fmt.Errorf("%q is not on 127.0.0.1 or [::1]", raw)
	}
	if p.opts.ExactRedirect != "" && raw != p.opts.ExactRedirect {
		return fmt.Errorf("%q is not the registered redirect URI %s", raw, p.opts.ExactRedirect)
	}
	if p.opts.RedirectPath != "" && u.Path != p.opts.RedirectPath {
		return fmt.Errorf("%q does not have the registered path %s", raw, p.opts.RedirectPath)
	}
	return nil
}

// respond adds authorization response parameters to the redirect URI,
// keeping any query it has (RFC 6749 §3.1.2), and iss when advertised
// (RFC 9207 §2, on errors too).
func (p *IdP) respond(redirect string, v url.Values) string {
	u, _ := url.Parse(redirect) // checked by checkRedirect
	q := u.Query()
	for k, vs := range v {
		q[k] = vs
	}
	if p.opts.IssParameter {
		q.Set("iss", p.Issuer)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// validPKCE reports whether s has RFC 7636's unreserved characters only and
// a length in [lo, hi].
func validPKCE(s string, lo, hi int) bool {
	if len(s) < lo || len(s) > hi {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("-._~", c)) {
			return false
		}
	}
	return true
}
