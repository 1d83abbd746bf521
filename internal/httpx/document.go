package httpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Response is one GET of a public document kept whole: the callers need
// more than the body (provider the status and Content-Type, doctor also
// the Date and Age headers and the time the answer took).
type Response struct {
	URL    string // as the caller gave it
	Status int
	Header http.Header
	// Body is the whole body, at most MaxBody bytes.
	Body []byte
	// Elapsed runs from sending the request to the body's last byte.
	Elapsed time.Duration
}

// GetDocument GETs a public document, such as a discovery document or a
// JWK Set, once, with header added to the request, and reads its body to
// the end. A redirect is followed within the origin only, since another
// origin would choose the endpoints or the keys, and the body is bounded
// by MaxBody (SameOrigin). There are no retries.
//
// The errors: a refused redirect is a *RedirectError named after u; a
// request that could not be built or sent is the *url.Error net/http
// gives, which quotes u; a body that broke off or passed MaxBody is
// "read u: ...", wrapping a *TooLargeError for the latter, and comes with
// the Response (Status and Header set, Body what was read), as
// http.Client.Do returns one with a redirect error. So a caller can tell
// "no answer" (a nil Response) from "an answer that could not be read".
func GetDocument(ctx context.Context, hc *http.Client, u string, header http.Header) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	start := time.Now()
	resp, err := SameOrigin(hc).Do(req)
	if err != nil {
		var rd *RedirectError
		if errors.As(err, &rd) {
			return nil, rd.Named(u)
		}
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	r := &Response{URL: u, Status: resp.StatusCode, Header: resp.Header, Body: body, Elapsed: time.Since(start)}
	if err != nil {
		return r, fmt.Errorf("read %s: %w", u, err)
	}
	return r, nil
}
