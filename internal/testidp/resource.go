package testidp

import (
	"fmt"
	"net/http"
	"strings"
)

// activeAccess returns the access token if it is known, unexpired and its
// grant still stands. Callers hold p.mu.
func (p *IdP) activeAccess(tok string) *accessToken {
	at, ok := p.access[tok]
	if !ok || at.revoked || at.grant.revoked || !p.now().Before(at.expires) {
		return nil
	}
	return at
}

// handleUserinfo serves OpenID Connect Core §5.3, answering bad tokens as
// RFC 6750 §3 says.
func (p *IdP) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		http.Error(w, "use GET or POST", http.StatusMethodNotAllowed)
		return
	}
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="testidp"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	p.mu.Lock()
	at := p.activeAccess(tok)
	p.mu.Unlock()
	if at == nil {
		bearerError(w, http.StatusUnauthorized, "invalid_token", "the access token is unknown, expired or revoked")
		return
	}
	if !strings.Contains(" "+at.scope+" ", " openid ") {
		bearerError(w, http.StatusForbidden, "insufficient_scope", "userinfo needs the openid scope")
		return
	}
	claims := map[string]any{"sub": Subject, "name": Name, "email": Email, "email_verified": true}
	if strings.Contains(" "+at.scope+" ", " "+OrganizationsScope+" ") {
		claims["organizations"] = p.organizations()
	}
	writeJSON(w, http.StatusOK, claims)
}

func bearerError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="testidp", error=%q, error_description=%q`, code, desc))
	w.WriteHeader(status)
}

// handleRevoke serves RFC 7009. Unknown tokens still get 200 (§2.2); JWT
// access tokens cannot be revoked, so they get unsupported_token_type (§2.2.1).
// Revoking a refresh token ends its whole grant, access tokens included
// (§2.1 allows it; oidc-provider does it).
func (p *IdP) handleRevoke(w http.ResponseWriter, r *http.Request) {
	form, oerr := p.parseForm(r)
	if oerr == nil {
		oerr = p.authenticateClient(r, form)
	}
	if oerr == nil && form.Get("token") == "" {
		oerr = errorf(400, "invalid_request", "token is required")
	}
	if oerr == nil && isJWT(form.Get("token")) {
		oerr = errorf(400, "unsupported_token_type", "Structured JWT Tokens cannot be revoked via the revocation_endpoint")
	}
	if oerr != nil {
		oerr.write(w)
		return
	}
	tok := form.Get("token")
	p.mu.Lock()
	if rt, ok := p.refresh[tok]; ok {
		rt.grant.revoked = true
	} else if at, ok := p.access[tok]; ok {
		at.revoked = true
	}
	p.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// handleIntrospect serves RFC 7662 to the registered client. JWT access
// tokens are for resource servers to verify themselves: asking about one
// gets unsupported_token_type, as oidc-provider answers.
func (p *IdP) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	form, oerr := p.parseForm(r)
	if oerr == nil {
		oerr = p.authenticateClient(r, form)
	}
	if oerr == nil && form.Get("token") == "" {
		oerr = errorf(400, "invalid_request", "token is required")
	}
	if oerr == nil && isJWT(form.Get("token")) {
		oerr = errorf(400, "unsupported_token_type", "Structured JWT Tokens cannot be introspected via the introspection_endpoint")
	}
	if oerr != nil {
		oerr.write(w)
		return
	}
	tok := form.Get("token")
	p.mu.Lock()
	defer p.mu.Unlock()
	resp := map[string]any{"active": false}
	if at := p.activeAccess(tok); at != nil {
		resp = p.introspection(at.grant, at.scope, "Bearer")
		resp["exp"] = at.expires.Unix()
		if len(at.resources) > 0 {
			resp["aud"] = at.resources
		}
	} else if rt, ok := p.refresh[tok]; ok && !rt.used && !rt.grant.revoked {
		resp = p.introspection(rt.grant, rt.grant.scope, "refresh_token")
	}
	writeJSON(w, http.StatusOK, resp)
}

func (p *IdP) introspection(g *grant, scope, typ string) map[string]any {
	return map[string]any{
		"active": true, "sub": Subject, "client_id": g.clientID,
		"scope": scope, "token_type": typ, "iss": p.Issuer,
	}
}
