// Package httpx holds the HTTP rules for talking to identity providers, in
// one place: which URLs may be called at all (CheckEndpoint), which
// redirects are followed (NoRedirects, SameOrigin) and how much of a
// response is read (MaxBody).
//
// Everything a provider sends is attacker-chosen when the provider, the
// network or a proxy is hostile. A redirect can carry an authorization
// code, a refresh token or a bearer token to another origin, and a body
// without end can exhaust memory in code sesame does not own (x/oauth2,
// go-oidc). The clients built here make both impossible whatever the
// library on top does.
package httpx

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// MaxBody bounds every response body read from a provider. Real discovery
// documents, JWK Sets and token responses are a few KiB.
const MaxBody = 1 << 20

// defaultTimeout applies when a caller passes no client: nothing may hang.
const defaultTimeout = 30 * time.Second

// TooLargeError is a response body that went past MaxBody.
type TooLargeError struct {
	URL   string // scheme, host and path: a query may carry a secret
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the response from %s is larger than %d KiB, far more than any provider sends; sesame stopped reading it", e.URL, e.Limit>>10)
}

// guard is the transport under every client this package returns. It
// bounds each response body, and it refuses a redirect the client must
// not follow before the client sees it: http.Client would otherwise put
// the whole target URL, which the other side chose, into its error.
type guard struct {
	base       http.RoundTripper
	sameOrigin bool // follow redirects within the origin; else none
}

func newGuard(rt http.RoundTripper, sameOrigin bool) guard {
	switch g := rt.(type) {
	case nil:
		rt = http.DefaultTransport
	case guard:
		rt = g.base // a stricter policy replaces the looser one, never stacks
		sameOrigin = sameOrigin && g.sameOrigin
	}
	return guard{base: rt, sameOrigin: sameOrigin}
}

func (g guard) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := g.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if e := g.refuse(r, resp); e != nil {
		resp.Body.Close()
		return nil, e
	}
	if resp.Body != nil {
		resp.Body = &boundedBody{rc: resp.Body, left: MaxBody, url: r.URL}
	}
	return resp, nil
}

// refuse returns the error for a redirect that must not be followed: any
// redirect, or with sameOrigin one to another origin. These are the
// statuses http.Client follows.
func (g guard) refuse(r *http.Request, resp *http.Response) *RedirectError {
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return nil
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return nil // the client does not follow it either
	}
	e := &RedirectError{Status: resp.StatusCode, From: Origin(r.URL), To: "an unreadable Location", sameOrigin: g.sameOrigin}
	to, err := r.URL.Parse(loc)
	if err == nil {
		e.To = Origin(to)
	}
	if err == nil && g.sameOrigin && sameOrigin(r.URL, to) {
		return nil
	}
	return e
}

// boundedBody is http.MaxBytesReader for responses: it asks for one byte
// more than it may hand out, to tell "exactly MaxBody" from "more", and
// never hands out more than MaxBody, so nothing above can buffer more.
type boundedBody struct {
	rc   io.ReadCloser
	left int64
	url  *url.URL
	err  error
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	if int64(n) <= b.left {
		b.left -= int64(n)
		b.err = err
		return n, err
	}
	n = int(b.left)
	b.left = 0
	b.err = &TooLargeError{URL: (&url.URL{Scheme: b.url.Scheme, Host: b.url.Host, Path: b.url.Path}).String(), Limit: MaxBody}
	return n, b.err
}

func (b *boundedBody) Close() error { return b.rc.Close() }
