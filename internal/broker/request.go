package broker

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
)

// The endpoints the broker forwards, and epOther for every other path,
// which is refused but still counted and rate-limited.
const (
	epToken      = "token"
	epRevoke     = "revoke"
	epIntrospect = "introspect"
	epPAR        = "par" // RFC 9126 pushed authorization requests
	epOther      = "other"
)

// accepted is a request that passed validation: the client the broker will
// authenticate as, the allow-listed parameters to forward and, for the
// token endpoint and pushed requests, the caller's DPoP proof if any.
type accepted struct {
	client    *client
	grantType string
	form      url.Values
	dpop      string
}

// forwarded lists, per grant type or endpoint, the only parameters that
// reach the provider. Anything else a caller sends is dropped, so a caller
// cannot smuggle in parameters the operator never meant to allow.
func forwarded(endpoint, grantType string) []string {
	switch {
	case endpoint == epPAR:
		return nil // checkPush decides: the authorization request's parameters
	case endpoint != epToken:
		return []string{"token", "token_type_hint"} // RFC 7009 §2.1, RFC 7662 §2.1
	case grantType == GrantAuthorizationCode:
		return []string{"grant_type", "code", "redirect_uri", "code_verifier", "resource"}
	default:
		// organization_id asks Logto for an organization token.
		return []string{"grant_type", "refresh_token", "scope", "resource", "organization_id"}
	}
}

// validateRequest checks a POST to endpoint, given its Content-Type and
// Authorization headers and its body. It does no I/O, so it can be fuzzed.
func validateRequest(endpoint, contentType, authorization string, body []byte, clients map[string]*client) (*accepted, *apiError) {
	if !isFormType(contentType) {
		return nil, unsupportedMediaType()
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, invalidRequest("the body is not a valid form")
	}
	for k, vs := range form {
		// RFC 6749 §3.1: a parameter without a value counts as omitted.
		n := 0
		for _, v := range vs {
			if v != "" {
				vs[n] = v
				n++
			}
		}
		switch {
		case n == 0:
			delete(form, k)
		case n > 1 && k != "resource": // RFC 8707 §2 lets resource repeat
			e := invalidRequest(fmt.Sprintf("parameter %q is repeated (RFC 6749 §3.2)", clip(k)))
			e.logNote = "a parameter is repeated"
			return nil, e
		default:
			form[k] = vs[:n]
		}
	}
	if authorization != "" {
		return nil, invalidRequest("send no Authorization header: the broker authenticates the client itself")
	}
	// Only the broker authenticates, so a caller's own credentials are
	// refused rather than dropped: a caller sending them holds a secret it
	// should not, and should hear about it.
	for _, k := range [...]string{"client_secret", "client_assertion", "client_assertion_type"} {
		if form.Has(k) {
			return nil, invalidRequest(k + " must not be sent: the broker authenticates the client itself")
		}
	}
	id := form.Get("client_id")
	if id == "" {
		return nil, invalidClient("client_id is required")
	}
	c, ok := clients[id]
	if !ok {
		return nil, invalidClient("unknown client_id")
	}
	a := &accepted{client: c}
	switch {
	case endpoint == epPAR:
		if e := checkPush(c, form); e != nil {
			return nil, e
		}
		a.form = pushedForm(form)
		return a, nil
	case endpoint == epToken:
		if e := checkGrant(c, form); e != nil {
			return nil, e
		}
		a.grantType = form.Get("grant_type")
	case !form.Has("token"):
		return nil, invalidRequest("token is required")
	}
	keys := forwarded(endpoint, a.grantType)
	a.form = make(url.Values, len(keys)+2)
	for _, k := range keys {
		if vs, ok := form[k]; ok {
			a.form[k] = vs
		}
	}
	return a, nil
}

// isFormType reports whether a Content-Type is a form, as
// mime.ParseMediaType reads it; the header every client sends is matched
// without parsing.
func isFormType(contentType string) bool {
	if contentType == "application/x-www-form-urlencoded" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/x-www-form-urlencoded"
}

func checkGrant(c *client, form url.Values) *apiError {
	switch gt := form.Get("grant_type"); {
	case gt == "":
		return invalidRequest("grant_type is required")
	case gt == GrantAuthorizationCode && c.authCode:
		return checkAuthCode(c, form)
	case gt == GrantRefreshToken && c.refresh:
		if !form.Has("refresh_token") {
			return invalidRequest("refresh_token is required")
		}
		return nil
	default:
		e := unsupportedGrant(fmt.Sprintf("grant_type %q is not allowed for this client", clip(gt)))
		e.logNote = "grant_type is not allowed for this client"
		return e
	}
}

// checkAuthCode requires PKCE: the broker redeems codes for anyone who
// reaches it, and only the verifier ties a code to the party that started
// the login (RFC 9700 §2.1.1). The redirect URI must fit the client's
// patterns, so the broker's secret cannot redeem codes issued to other
// redirect targets of the same client.
func checkAuthCode(c *client, form url.Values) *apiError {
	if !form.Has("code") {
		return invalidRequest("code is required")
	}
	v := form.Get("code_verifier")
	if v == "" {
		return invalidRequest("code_verifier is required: the broker only redeems codes obtained with PKCE")
	}
	if !validVerifier(v) {
		return invalidRequest("code_verifier must be 43 to 128 characters from A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1)")
	}
	return checkRedirectURI(c, form)
}

// checkRedirectURI holds the redirect URI of a code exchange or a pushed
// request to the client's allowed patterns: one rule for both, so a request
// the broker pushes can never name a redirect its code exchange refuses.
func checkRedirectURI(c *client, form url.Values) *apiError {
	ru := form.Get("redirect_uri")
	if ru == "" {
		return invalidRequest("redirect_uri is required")
	}
	for _, p := range c.redirects {
		if p.match(ru) {
			return nil
		}
	}
	return invalidRequest("redirect_uri is not allowed for this client")
}

// checkPush checks a pushed authorization request (RFC 9126 §2.1) as
// checkAuthCode checks the code exchange it leads to: the client may use
// the authorization code flow, with PKCE S256 (RFC 9700 §2.1.1), and the
// redirect URI fits its patterns. A request the broker pushes is
// authenticated as its client, and some providers trust such a request
// more (RFC 9126 §2.4 lets them accept redirect URIs never registered):
// so nothing goes through that the code exchange would then refuse.
func checkPush(c *client, form url.Values) *apiError {
	if !c.authCode {
		return refuse(http.StatusBadRequest, "unauthorized_client", "this client may not use the authorization code flow")
	}
	for _, k := range [...]string{"request", "request_uri"} {
		// A request object would carry parameters the broker has not checked.
		if form.Has(k) {
			return invalidRequest(k + " must not be sent: push the parameters themselves (RFC 9126 §2.1)")
		}
	}
	if rt := form.Get("response_type"); rt != "code" {
		return invalidRequest("response_type must be code")
	}
	if form.Get("code_challenge") == "" {
		return invalidRequest("code_challenge is required: the broker only pushes requests with PKCE")
	}
	if form.Get("code_challenge_method") != "S256" {
		return invalidRequest("code_challenge_method must be S256 (RFC 7636 §4.3)")
	}
	return checkRedirectURI(c, form)
}

// pushedForm is what the broker pushes: the authorization request's own
// parameters, all of them, since an authorization request may carry any
// the provider knows (login_hint, organization_id, acr_values...), just as
// the browser's URL would; the client credentials checked out above are
// never among them, and forward adds the broker's own.
func pushedForm(form url.Values) url.Values {
	out := make(url.Values, len(form)+2)
	for k, vs := range form {
		out[k] = vs
	}
	return out
}

// validVerifier is RFC 7636 §4.1: code-verifier = 43*128unreserved.
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// clip shortens caller-supplied text echoed in an error description.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
