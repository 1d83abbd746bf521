package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sync"

	"github.com/sesame-cli/sesame/internal/httpx"
	"github.com/sesame-cli/sesame/internal/term"
)

// maxRedirects bounds the same-origin redirects of one request, as
// net/http's own default does.
const maxRedirects = 10

// client returns a copy of hc (Transport, Timeout and Jar kept) that
// follows a redirect only within the origin of the request. A redirect
// elsewhere is not followed: its 3xx response is the answer, and the
// other origin never sees the token. net/http would drop Authorization
// there itself, but not a DPoP proof or a header given with -H.
func client(hc *http.Client, stderr io.Writer) *http.Client {
	var c http.Client
	if hc != nil {
		c = *hc
	}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		from := via[0].URL
		switch {
		case !sameOrigin(req.URL, from):
			fmt.Fprintf(stderr, "not following the redirect to %s: sesame sends the token only to %s\n",
				origin(req.URL), origin(from))
			return http.ErrUseLastResponse
		case len(via) > maxRedirects:
			fmt.Fprintf(stderr, "not following redirect %d: sesame stops after %d\n", len(via), maxRedirects)
			return http.ErrUseLastResponse
		}
		return nil
	}
	return &c
}

// send makes one request with a token from the source and, when the
// server refuses that token, once more with a renewed one. The body is
// sent again then, unless it came from standard input.
func (r *runner) send(ctx context.Context, method string, u *url.URL, h http.Header, b *body) (*http.Response, error) {
	tok, err := r.o.Token(ctx, false)
	if err != nil {
		return nil, err
	}
	resp, err := r.do(ctx, method, u, h, b, tok)
	if err != nil || !refusedToken(resp) {
		return resp, err
	}
	if b != nil && b.stdin {
		fmt.Fprintf(r.stderr, "the server refused the token (HTTP %d); the request body came from standard input and cannot be sent again, so sesame did not retry with a renewed token\n", resp.StatusCode)
		return resp, nil
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	resp.Body.Close()
	if tok, err = r.o.Token(ctx, true); err != nil {
		return nil, err
	}
	return r.do(ctx, method, u, h, b, tok)
}

// do sends one request (and its same-origin redirects) with tok.
func (r *runner) do(ctx context.Context, method string, u *url.URL, h http.Header, b *body, tok Token) (*http.Response, error) {
	auth, err := authorization(tok)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("could not make the request: %w", err)
	}
	req.Header = h.Clone()
	req.Header.Set("Authorization", auth)
	if b != nil {
		rc, size, err := b.open()
		if err != nil {
			return nil, err
		}
		req.Body, req.ContentLength = rc, size
		if req.Header.Get("Content-Type") == "" {
			req.Header.Set("Content-Type", b.contentType)
		}
		if size == 0 {
			rc.Close()
			req.Body = http.NoBody
		}
		if !b.stdin {
			req.GetBody = func() (io.ReadCloser, error) {
				rc, _, err := b.open()
				return rc, err
			}
		}
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		if ue := httpx.Unreachable(err, "the API"); ue != nil {
			return nil, ue
		}
		return nil, term.CleanError(err)
	}
	return resp, nil
}

// invalidToken finds error="invalid_token" among the auth-params of a
// WWW-Authenticate challenge (RFC 6750 §3.1, RFC 9449 §7.1).
var invalidToken = sync.OnceValue(func() *regexp.Regexp { // compiled on first use, not at every start
	return regexp.MustCompile(`(?i)(^|[\s,])error\s*=\s*"?invalid_token"?\s*(,|$)`)
})

// refusedToken reports a response that refuses the token itself: a 401,
// or a 403 whose challenge says invalid_token. A plain 403 is about
// permissions, which a renewed token does not change.
func refusedToken(resp *http.Response) bool {
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return true
	case http.StatusForbidden:
		for _, v := range resp.Header.Values("WWW-Authenticate") {
			if invalidToken().MatchString(v) {
				return true
			}
		}
	}
	return false
}

// sameOrigin is the one origin rule (RFC 6454 §4) every sesame request
// follows.
func sameOrigin(a, b *url.URL) bool { return httpx.SameOriginURL(a, b) }
