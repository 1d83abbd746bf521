package testidp

import (
	"errors"
	"net/http"
	"net/url"
	"time"
)

// parTTL is the lifetime of a pushed request, oidc-provider's.
const parTTL = 60 * time.Second

// requestURIPrefix is RFC 9126 §2.2's urn:ietf:params:oauth:request_uri.
const requestURIPrefix = "urn:ietf:params:oauth:request_uri:"

type pushedRequest struct {
	params  url.Values
	expires time.Time
}

// handlePAR serves the pushed authorization request endpoint (RFC 9126
// §2): it checks the request as the authorization endpoint would, but
// answers every refusal in JSON, 401 invalid_client for the client.
func (p *IdP) handlePAR(w http.ResponseWriter, r *http.Request) {
	if !p.opts.PAR {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		errorf(http.StatusMethodNotAllowed, "invalid_request", "use POST").write(w)
		return
	}
	if err := r.ParseForm(); err != nil {
		errorf(http.StatusBadRequest, "invalid_request", "the body is not a form").write(w)
		return
	}
	q := r.PostForm
	if e := p.authenticate(r, q.Get("client_id")); e != nil {
		e.write(w)
		return
	}
	if q.Has("request_uri") || q.Has("request") {
		errorf(http.StatusBadRequest, "invalid_request", "request_uri and request are not allowed here (RFC 9126 §2.1)").write(w)
		return
	}
	if _, err := p.validate(q); err != nil {
		var ae *AuthorizeError
		if !errors.As(err, &ae) {
			errorf(http.StatusBadRequest, "invalid_request", err.Error()).write(w)
			return
		}
		status := http.StatusBadRequest
		if ae.Code == "invalid_client" {
			status = http.StatusUnauthorized
		}
		errorf(status, ae.Code, ae.Description).write(w)
		return
	}
	uri := requestURIPrefix + random()
	p.mu.Lock()
	p.pushed[uri] = pushedRequest{params: q, expires: p.now().Add(parTTL)}
	p.pushes++
	p.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"request_uri": uri, "expires_in": int(parTTL / time.Second)})
}

// authenticate checks the client at the pushed authorization request
// endpoint: its client_id, and its secret when it is confidential.
func (p *IdP) authenticate(r *http.Request, clientID string) *oauthError {
	if id, secret, ok := r.BasicAuth(); ok {
		clientID = id
		if p.opts.ClientSecret == "" || secret != p.opts.ClientSecret {
			return errorf(http.StatusUnauthorized, "invalid_client", "client authentication failed")
		}
	} else if p.opts.ClientSecret != "" && r.PostForm.Get("client_secret") != p.opts.ClientSecret {
		return errorf(http.StatusUnauthorized, "invalid_client", "client authentication failed")
	}
	if clientID != p.opts.ClientID {
		return errorf(http.StatusUnauthorized, "invalid_client", "client authentication failed")
	}
	return nil
}

// pushedRequest resolves request_uri at the authorization endpoint: a
// pushed request of the same client, used once, before it expires.
func (p *IdP) pushedRequest(q url.Values) (url.Values, error) {
	uri := q.Get("request_uri")
	p.mu.Lock()
	pr, ok := p.pushed[uri]
	delete(p.pushed, uri)
	p.mu.Unlock()
	switch {
	case !p.opts.PAR:
		return nil, &AuthorizeError{Code: "request_uri_not_supported", Description: "request_uri is not supported"}
	case !ok || p.now().After(pr.expires):
		return nil, &AuthorizeError{Code: "invalid_request_uri", Description: "request_uri is invalid, expired, or was already used"}
	case q.Get("client_id") != pr.params.Get("client_id"):
		return nil, &AuthorizeError{Code: "invalid_request_uri", Description: "request_uri was pushed by another client"}
	}
	return pr.params, nil
}

// Pushes counts the pushed authorization requests accepted.
func (p *IdP) Pushes() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pushes
}
