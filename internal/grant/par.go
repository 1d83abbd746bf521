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
	"time"

	"github.com/sesame-cli/sesame/internal/httpx"
)

// Pushed is a pushed authorization request the provider accepted
// (RFC 9126 §2.2): the browser goes to the authorization endpoint with
// client_id and RequestURI only, before Expiry.
type Pushed struct {
	RequestURI string
	Expiry     time.Time
}

// defaultPARLifetime is assumed when a provider leaves expires_in out,
// which RFC 9126 §2.2 requires: oidc-provider's own lifetime.
const defaultPARLifetime = 60 * time.Second

// maxPARLifetime bounds expires_in: RFC 9126 §2.2 suggests 5 to 600
// seconds, and a request is only useful while the login waits.
const maxPARLifetime = time.Hour

// Push sends an authorization request to a pushed authorization request
// endpoint (RFC 9126 §2.1): params are what the authorization URL would
// carry, and client_id is added. A public client authenticates with its
// client_id alone; a broker endpoint adds the credentials of a
// confidential one. The provider checks the request as its authorization
// endpoint would, so a refusal (invalid_client, a redirect URI it does
// not know, an unknown scope) is an *Error with Code set, in seconds and
// before any browser opens. Like every call here, a redirect is refused.
func (c Client) Push(ctx context.Context, endpoint string, params url.Values) (*Pushed, error) {
	const op = "push the authorization request"
	if err := checkURL(op, "pushed authorization request", endpoint); err != nil {
		return nil, err
	}
	form := url.Values{}
	for k, vs := range params {
		form[k] = vs
	}
	form.Set("client_id", c.ClientID)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := httpx.NoRedirects(c.HTTP).Do(req)
	if err != nil {
		var rd *httpx.RedirectError
		if errors.As(err, &rd) {
			return nil, &Error{Op: op, Err: rd.Named("the pushed authorization request endpoint")}
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, &Error{Op: op, Err: fmt.Errorf("could not reach the pushed authorization request endpoint %s: %w", endpoint, err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body) // bounded by the transport
	if err != nil {
		return nil, &Error{Op: op, Status: resp.StatusCode, Err: fmt.Errorf("read the pushed authorization response: %w", err)}
	}
	// RFC 9126 §2.2 says 201; a 200 with the same body is taken too.
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		e := &Error{Op: op, Status: resp.StatusCode}
		var oe struct {
			Code        string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(body, &oe) == nil && oe.Code != "" {
			e.Code, e.Description = oe.Code, oe.Description
		} else {
			e.Err = fmt.Errorf("the pushed authorization request endpoint answered HTTP %d (%s) without an OAuth error", resp.StatusCode, contentType(resp))
		}
		return nil, e
	}
	var ok struct {
		RequestURI string          `json:"request_uri"`
		ExpiresIn  json.RawMessage `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &ok); err != nil {
		return nil, &Error{Op: op, Status: resp.StatusCode, Err: fmt.Errorf("the pushed authorization response is not JSON: %w", err)}
	}
	if ok.RequestURI == "" {
		return nil, &Error{Op: op, Status: resp.StatusCode, Err: errors.New("the pushed authorization response has no request_uri (RFC 9126 §2.2)")}
	}
	// It ends up in the browser's URL: visible ASCII, like a token.
	if err := CheckTokenChars("request_uri", ok.RequestURI); err != nil {
		return nil, &Error{Op: op, Status: resp.StatusCode, Err: fmt.Errorf("unusable pushed authorization response: %w", err)}
	}
	life, err := parLifetime(ok.ExpiresIn)
	if err != nil {
		return nil, &Error{Op: op, Status: resp.StatusCode, Err: err}
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	return &Pushed{RequestURI: ok.RequestURI, Expiry: now().Add(life)}, nil
}

// parLifetime reads expires_in: a number of seconds, absent meaning
// defaultPARLifetime.
func parLifetime(raw json.RawMessage) (time.Duration, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return defaultPARLifetime, nil
	}
	var n float64
	if err := json.Unmarshal(raw, &n); err != nil || n <= 0 || n > maxPARLifetime.Seconds() {
		return 0, fmt.Errorf("unusable pushed authorization response: expires_in is %s", raw)
	}
	return time.Duration(n * float64(time.Second)), nil
}
