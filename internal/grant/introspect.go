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
)

// Introspect asks the provider about a token (RFC 7662) and returns the
// JSON response as sent. Providers usually want client authentication
// here, which a broker adds; a public client sends its client_id.
func (c Client) Introspect(ctx context.Context, endpoint, token, hint string) (map[string]any, error) {
	form := url.Values{"token": {token}, "client_id": {c.ClientID}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("introspect the token: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, &Error{Op: "introspect the token", Err: fmt.Errorf("could not reach the introspection endpoint %s: %w", endpoint, err)}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var out map[string]any
	jsonErr := json.Unmarshal(body, &out)
	if resp.StatusCode != http.StatusOK {
		e := &Error{Op: "introspect the token", Status: resp.StatusCode}
		if code, _ := out["error"].(string); jsonErr == nil && code != "" {
			e.Code, _ = out["error"].(string)
			e.Description, _ = out["error_description"].(string)
		} else {
			e.Err = fmt.Errorf("the introspection endpoint answered HTTP %d (%s) without an OAuth error", resp.StatusCode, contentType(resp))
		}
		return nil, e
	}
	if jsonErr != nil {
		return nil, &Error{Op: "introspect the token", Err: fmt.Errorf("the introspection response is not JSON: %w", jsonErr)}
	}
	if _, ok := out["active"].(bool); !ok {
		return nil, &Error{Op: "introspect the token", Err: errors.New("the introspection response has no boolean \"active\" member (RFC 7662 §2.2)")}
	}
	return out, nil
}
