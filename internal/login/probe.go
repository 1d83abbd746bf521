package login

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/sesame-cli/sesame/internal/httpx"
	"github.com/sesame-cli/sesame/internal/term"
)

// The GET preflight, for a provider without pushed authorization requests:
// the authorization URL fetched once, as the browser would, without
// following a redirect, and the first answer read as the browser would
// meet it (preflight.go says why).

// probe GETs the authorization URL once, without following a redirect,
// and reads the answer as the browser would meet it.
func (o Options) probe(ctx context.Context, req request) (*Verdict, error) {
	authURL, err := req.url()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, preflightTimeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	// As a browser asks: some providers answer JSON to API clients.
	hr.Header.Set("Accept", "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8")
	resp, err := firstAnswer(o.HTTP).Do(hr)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return &Verdict{Warning: fmt.Sprintf("could not check the sign-in with the provider first (%v); opening the browser anyway", err)}, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, httpx.MaxBody))
	return o.judge(req, authURL, resp.StatusCode, resp.Header, body)
}

// judge reads the authorization endpoint's answer to the GET.
func (o Options) judge(req request, authURL string, status int, h http.Header, body []byte) (*Verdict, error) {
	const where = "authorization endpoint"
	switch {
	case status >= 300 && status < 400:
		base, _ := url.Parse(authURL)
		loc, err := base.Parse(h.Get("Location"))
		if err != nil || h.Get("Location") == "" {
			return &Verdict{Answer: fmt.Sprintf("HTTP %d", status)}, nil
		}
		// An error goes back to the redirect URI (RFC 6749 §4.1.2.1), or
		// to the provider's own error page, in the query or, for some
		// response modes, the fragment.
		for _, q := range []url.Values{loc.Query(), fragmentValues(loc)} {
			if code := q.Get("error"); code != "" {
				return nil, &RefusedError{Where: where, Status: status, Code: code, Description: q.Get("error_description"),
					Fix: o.fix(req, code, q.Get("error_description"), status)}
			}
		}
		where := "the provider's sign-in pages"
		if httpx.Origin(loc) != httpx.Origin(base) {
			where = term.Clean(httpx.Origin(loc))
		}
		return &Verdict{Answer: fmt.Sprintf("HTTP %d to %s", status, where)}, nil
	case status < 300:
		return &Verdict{Answer: fmt.Sprintf("HTTP %d, a sign-in page", status)}, nil
	}
	a := readAnswer(h.Get("Content-Type"), body)
	if a.code == "" && inconclusive(status) {
		// A bot filter or a proxy in front of the provider can refuse a
		// program what it serves a browser: that is no verdict on the
		// request.
		return &Verdict{Warning: fmt.Sprintf("the provider's authorization endpoint answered HTTP %d to sesame's check, without an OAuth error; opening the browser anyway", status)}, nil
	}
	return nil, &RefusedError{Where: where, Status: status, Code: a.code, Description: a.description, Text: a.text,
		Fix: o.fix(req, a.code, a.description+" "+a.text, status)}
}

// inconclusive statuses come as often from what stands in front of a
// provider (a bot filter, a proxy, a rate limit, an outage) as from the
// provider's verdict on the request.
func inconclusive(status int) bool {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusProxyAuthRequired, http.StatusTooManyRequests:
		return true
	}
	return status >= 500
}

func fragmentValues(u *url.URL) url.Values {
	v, _ := url.ParseQuery(u.Fragment)
	return v
}

// firstAnswer is hc without redirects: the preflight reads the first
// answer, Location included, and follows nothing. The GET carries only
// what the browser's URL would.
func firstAnswer(hc *http.Client) *http.Client {
	var c http.Client
	if hc != nil {
		c = *hc
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}
