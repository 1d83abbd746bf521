package testidp

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// grant is one user's consent to one client, from which every token of one
// login descends; revoking it ends them all.
type grant struct {
	clientID, scope, nonce string
	resources              []string
	authTime               time.Time
	revoked                bool
}

type authCode struct {
	grant                  *grant
	redirectURI, challenge string
	expires                time.Time
	used                   bool
}

type accessToken struct {
	grant     *grant
	scope     string
	resources []string
	expires   time.Time
	revoked   bool
}

type refreshToken struct {
	grant *grant
	used  bool
}

// handleToken serves the token endpoint (RFC 6749 §3.2).
func (p *IdP) handleToken(w http.ResponseWriter, r *http.Request) {
	form, oerr := p.parseForm(r)
	p.mu.Lock()
	p.grants[form.Get("grant_type")]++
	var f *fault
	if len(p.failures) > 0 {
		f = &p.failures[0]
		p.failures = p.failures[1:]
	}
	delay := p.delay
	p.mu.Unlock()

	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if f != nil {
		if f.contentType != "" {
			w.Header().Set("Content-Type", f.contentType)
		}
		w.WriteHeader(f.status)
		_, _ = w.Write([]byte(f.body))
		return
	}
	if oerr == nil {
		oerr = p.authenticateClient(r, form)
	}
	if oerr != nil {
		p.mu.Lock()
		p.errs[oerr.Code]++
		p.mu.Unlock()
		oerr.write(w)
		return
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	var resp map[string]any
	switch form.Get("grant_type") {
	case "authorization_code":
		resp, oerr = p.redeemCode(form)
	case "refresh_token":
		resp, oerr = p.redeemRefresh(form)
	case "":
		oerr = errorf(400, "invalid_request", "grant_type is required")
	default:
		oerr = errorf(400, "unsupported_grant_type", "grant_type "+form.Get("grant_type")+" is not supported")
	}
	if oerr != nil {
		p.errs[oerr.Code]++
		oerr.write(w)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// parseForm reads a POSTed form body; parameters in the query are not
// looked at, and none but resource may repeat (RFC 6749 §3.2).
func (p *IdP) parseForm(r *http.Request) (url.Values, *oauthError) {
	if r.Method != http.MethodPost {
		return url.Values{}, errorf(http.StatusMethodNotAllowed, "invalid_request", "use POST")
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return url.Values{}, errorf(400, "invalid_request", "the body must be application/x-www-form-urlencoded")
	}
	if err := r.ParseForm(); err != nil {
		return url.Values{}, errorf(400, "invalid_request", "unreadable form: "+err.Error())
	}
	for k, vs := range r.PostForm {
		if len(vs) > 1 && k != "resource" {
			return r.PostForm, errorf(400, "invalid_request", k+" is repeated")
		}
	}
	return r.PostForm, nil
}

// authenticateClient accepts the registered client only: a public client
// by client_id alone, a confidential one by exactly one of Basic or
// client_secret_post (RFC 6749 §2.3.1).
func (p *IdP) authenticateClient(r *http.Request, form url.Values) *oauthError {
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		if form.Has("client_secret") {
			return errorf(400, "invalid_request", "more than one client authentication method")
		}
		if form.Has("client_id") && form.Get("client_id") != id {
			return errorf(400, "invalid_request", "client_id differs from the authenticated client")
		}
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	switch {
	case id != p.opts.ClientID:
		return errorf(401, "invalid_client", "unknown client")
	case p.opts.ClientSecret == "" && (basic || form.Has("client_secret")):
		return errorf(401, "invalid_client", "the client is public; it must not send a client secret")
	case p.opts.ClientSecret != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(p.opts.ClientSecret)) != 1:
		return errorf(401, "invalid_client", "client authentication failed")
	}
	return nil
}

// redeemCode is RFC 6749 §4.1.3 with RFC 7636 §4.6. A code is burnt by the
// first attempt to redeem it, successful or not, and presenting it again
// revokes whatever it issued (RFC 6749 §4.1.2).
func (p *IdP) redeemCode(form url.Values) (map[string]any, *oauthError) {
	c, ok := p.codes[form.Get("code")]
	switch {
	case !ok:
		return nil, errorf(400, "invalid_grant", "unknown authorization code")
	case c.used:
		c.grant.revoked = true
		p.reuse++
		return nil, errorf(400, "invalid_grant", "the authorization code was already used; its grant is revoked")
	}
	c.used = true
	verifier := form.Get("code_verifier")
	switch {
	case p.now().After(c.expires):
		return nil, errorf(400, "invalid_grant", "the authorization code expired")
	case form.Get("redirect_uri") != c.redirectURI:
		return nil, errorf(400, "invalid_grant", "redirect_uri differs from the authorization request")
	case verifier == "":
		return nil, errorf(400, "invalid_request", "code_verifier is required")
	case !validPKCE(verifier, 43, 128):
		return nil, errorf(400, "invalid_grant", "code_verifier is malformed (RFC 7636 §4.1)")
	case s256(verifier) != c.challenge:
		return nil, errorf(400, "invalid_grant", "PKCE verification failed")
	}
	return p.issue(c.grant, c.grant.scope, c.grant.resources, true), nil
}

// redeemRefresh is RFC 6749 §6 with rotation: each refresh token works
// once, and a second use revokes the grant, since either the client or an
// attacker holds a stolen copy (RFC 9700 §4.14.2).
//
// resource=R (one of the login's resources) gives a JWT for R; Logto's
// organization_id gives an organization token. The checks run in
// oidc-provider's order, with Logto's before them, since that order decides
// which refusals spend the refresh token or revoke the grant; what each
// combination answers is testdata/logto-organizations.json.
func (p *IdP) redeemRefresh(form url.Values) (map[string]any, *oauthError) {
	rt, ok := p.refresh[form.Get("refresh_token")]
	switch {
	case !ok:
		return nil, errorf(400, "invalid_grant", "unknown refresh token")
	case rt.grant.revoked: // oidc-provider deletes these tokens: they are unknown there
		return nil, errorf(400, "invalid_grant", "the grant was revoked")
	}
	g := rt.grant
	org := form.Get("organization_id")
	if org != "" && !slices.Contains(strings.Fields(g.scope), OrganizationsScope) {
		e := errorf(http.StatusForbidden, "insufficient_scope", "refresh token missing required scope")
		e.Scope = OrganizationsScope
		return nil, e
	}
	scope := g.scope
	if s := form.Get("scope"); s != "" {
		for _, v := range strings.Fields(s) {
			if !slices.Contains(strings.Fields(g.scope), v) {
				return nil, errorf(400, "invalid_scope", "scope "+v+" was not granted")
			}
		}
		scope = s
	}
	if rt.used {
		g.revoked = true
		p.reuse++
		return nil, errorf(400, "invalid_grant", "the refresh token was already used; its grant is revoked")
	}
	if org != "" && !p.isMember(org) {
		return nil, errorf(http.StatusForbidden, "access_denied", "user is not a member of the organization")
	}
	// oidc-provider, and Logto's fork of its grant, rotate the refresh
	// token before they look at the resource: a refused resource spends it,
	// and presenting it again is reuse.
	rt.used = true
	resources := g.resources
	if rs := form["resource"]; len(rs) > 0 {
		for _, v := range rs {
			if !slices.Contains(g.resources, v) {
				return nil, errorf(400, "invalid_target", "resource "+v+" was not granted")
			}
		}
		resources = rs
	}
	withID := !p.opts.NoRefreshIDToken
	switch {
	case len(form["resource"]) == 1:
		rscope := resourceScope(scope)
		return p.tokenResponse(g, p.accessJWT(g, resources[0], rscope, org), rscope, scope, withID), nil
	case org != "":
		// The scope would be the organization scopes of the user's roles
		// there; members have no roles here, so it is empty.
		return p.tokenResponse(g, p.accessJWT(g, OrganizationAudience(org), "", org), "", scope, withID), nil
	}
	return p.issue(g, scope, resources, withID), nil
}

// resourceScope is the part of scope that goes to a resource server: all
// but the OpenID Connect and Logto user scopes, which oidc-provider keeps
// for itself (so a login with only those gets an empty one). userinfoScope
// is the rest, all that its opaque access tokens carry.
func resourceScope(scope string) string { return keepScopes(scope, false) }
func userinfoScope(scope string) string { return keepScopes(scope, true) }

// keepScopes keeps the OpenID Connect and Logto user scopes of scope when
// user is true, and the others when it is false.
func keepScopes(scope string, user bool) string {
	userScopes := []string{"openid", "profile", "email", "offline_access", OrganizationsScope}
	return strings.Join(slices.DeleteFunc(strings.Fields(scope), func(s string) bool { return slices.Contains(userScopes, s) != user }), " ")
}

// issue mints the tokens of a successful grant, with an opaque access
// token that userinfo and introspection know. Callers hold p.mu.
func (p *IdP) issue(g *grant, scope string, resources []string, withID bool) map[string]any {
	at, uscope := random(), userinfoScope(scope)
	p.access[at] = &accessToken{grant: g, scope: uscope, resources: resources, expires: p.now().Add(p.opts.AccessTokenTTL)}
	return p.tokenResponse(g, at, uscope, scope, withID)
}

// tokenResponse builds a token response around access token at: scope is the
// access token's, idScope decides the ID token's claims. Callers hold p.mu.
func (p *IdP) tokenResponse(g *grant, at, scope, idScope string, withID bool) map[string]any {
	resp := map[string]any{
		"access_token": at,
		"token_type":   "Bearer",
		"expires_in":   int(p.opts.AccessTokenTTL / time.Second),
		"scope":        scope,
	}
	scopes := strings.Fields(g.scope)
	if slices.Contains(scopes, "offline_access") {
		rt := random()
		p.refresh[rt] = &refreshToken{grant: g}
		resp["refresh_token"] = rt
	}
	if withID && slices.Contains(scopes, "openid") {
		resp["id_token"] = p.idToken(g, idScope)
	}
	return resp
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
