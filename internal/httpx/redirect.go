package httpx

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/sesame-cli/sesame/internal/term"
)

// maxSameOriginHops bounds the redirects SameOrigin follows; a provider
// that moved its discovery document needs one or two.
const maxSameOriginHops = 5

// RedirectError is a redirect sesame refused to follow. From and To are
// origins only (scheme, host, port), never whole URLs: a target URL may
// carry a code or a token, and the other side chose it.
type RedirectError struct {
	Status   int
	From, To string

	name       string // what the caller calls the server, e.g. "the token endpoint"
	sameOrigin bool   // the client follows same-origin redirects; this one was not
	tooMany    bool
}

func (e *RedirectError) Error() string {
	name := e.name
	if name == "" {
		name = e.From
	}
	name = term.Clean(name)
	switch {
	case e.tooMany:
		return fmt.Sprintf("%s answered HTTP %d, one more redirect after %d; sesame stopped following them", name, e.Status, maxSameOriginHops)
	case e.sameOrigin:
		return fmt.Sprintf("%s answered HTTP %d, a redirect to another origin, %s; sesame follows a redirect only within the same origin", name, e.Status, term.Clean(e.To))
	}
	return fmt.Sprintf("%s answered HTTP %d, a redirect to %s; sesame never follows a redirect with a secret in it", name, e.Status, term.Clean(e.To))
}

// Named returns a copy of e that calls the server what, such as "the
// token endpoint", for a message that says which call was redirected.
func (e *RedirectError) Named(what string) *RedirectError {
	c := *e
	c.name = what
	return &c
}

// NoRedirects returns a copy of hc that follows no redirect and bounds
// every body to MaxBody. It is for every call that carries a secret: the
// token endpoint (a code, a refresh token, a device code), revocation and
// introspection (a token), userinfo (a bearer token). A redirect becomes a
// *RedirectError inside the *url.Error that Do returns, and the target
// gets nothing. A nil hc means a default client with a timeout; Timeout
// and Jar are kept.
func NoRedirects(hc *http.Client) *http.Client {
	c := clone(hc, false)
	// The transport refuses first; this holds should it be bypassed.
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		return redirectError(req, via)
	}
	return c
}

// SameOrigin returns a copy of hc that follows a redirect only within the
// origin of the request (scheme, host and port, RFC 6454 §4), at most a
// few of them, and bounds every body to MaxBody. It is for public
// documents (discovery, JWK Sets): a provider may move them, but another
// origin would get to choose the endpoints or the keys.
func SameOrigin(hc *http.Client) *http.Client {
	c := clone(hc, true)
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		switch {
		case !sameOrigin(req.URL, via[0].URL):
			e := redirectError(req, via)
			e.sameOrigin = true
			return e
		case len(via) > maxSameOriginHops:
			e := redirectError(req, via)
			e.tooMany = true
			return e
		}
		return nil
	}
	return c
}

func clone(hc *http.Client, sameOrigin bool) *http.Client {
	var c http.Client
	if hc != nil {
		c = *hc
	} else {
		c.Timeout = defaultTimeout
	}
	c.Transport = newGuard(c.Transport, sameOrigin)
	return &c
}

func redirectError(req *http.Request, via []*http.Request) *RedirectError {
	e := &RedirectError{From: Origin(via[len(via)-1].URL), To: Origin(req.URL)}
	if req.Response != nil {
		e.Status = req.Response.StatusCode
	}
	return e
}

// Origin is scheme://host[:port] of u, for messages.
func Origin(u *url.URL) string {
	return u.Scheme + "://" + u.Host
}

// SameOriginURL reports whether a and b have one origin: scheme, host and
// port, with the scheme's default port filled in, as RFC 6454 §4 does.
func SameOriginURL(a, b *url.URL) bool { return sameOrigin(a, b) }

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}
