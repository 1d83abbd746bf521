package grant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/sesame-cli/sesame/internal/httpx"
)

// tokenRequest is one form POST about a token (RFC 7009 revocation, RFC 7662
// introspection): the token, its hint and the client_id of a public client.
type tokenRequest struct {
	op, what, endpoint, token, hint string
}

// post sends r and returns the body (at most httpx.MaxBody). A non-200
// answer becomes an *Error carrying the OAuth error when the body has one;
// a redirect is refused, since the request carries a token.
func (c Client) post(ctx context.Context, r tokenRequest) ([]byte, error) {
	if err := checkURL(r.op, r.what, r.endpoint); err != nil {
		return nil, err
	}
	form := url.Values{"token": {r.token}}
	if !c.BasicID {
		form.Set("client_id", c.ClientID)
	}
	if r.hint != "" {
		form.Set("token_type_hint", r.hint)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, &Error{Op: r.op, Err: err}
	}
	if c.BasicID {
		// RFC 6749 §2.3.1: the id form-encoded, then Basic.
		req.SetBasicAuth(url.QueryEscape(c.ClientID), "")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := httpx.NoRedirects(c.HTTP).Do(req)
	if err != nil {
		var rd *httpx.RedirectError
		if errors.As(err, &rd) {
			return nil, &Error{Op: r.op, Err: rd.Named("the " + r.what + " endpoint")}
		}
		if ur := httpx.Unreachable(err, "the "+r.what+" endpoint"); ur != nil {
			return nil, &Error{Op: r.op, Err: ur} // the URL once, the cause, a hint
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, &Error{Op: r.op, Err: fmt.Errorf("could not reach the %s endpoint %s: %w", r.what, r.endpoint, err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body) // bounded by the transport
	if resp.StatusCode == http.StatusOK {
		if err != nil {
			return nil, &Error{Op: r.op, Err: fmt.Errorf("read the %s response: %w", r.what, err)}
		}
		return body, nil
	}
	e := &Error{Op: r.op, Status: resp.StatusCode}
	var oe struct {
		Code        string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &oe) == nil && oe.Code != "" {
		e.Code, e.Description = oe.Code, oe.Description
	} else {
		e.Err = fmt.Errorf("the %s endpoint answered HTTP %d (%s) without an OAuth error", r.what, resp.StatusCode, contentType(resp))
	}
	return nil, e
}
